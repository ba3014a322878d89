"""Lines of a trace file, each at most a bounded size: a huge line is skipped, never held in memory.

A 200 MB line costs about 1 GB once parsed; a trace is rarely over a few hundred kilobytes. Lines
longer than ``$TRAILCHECK_MAX_LINE_BYTES`` (default 10 MB) come out as ``None`` with their number,
so the reader reports ``file:line`` and goes on; their bytes are read in chunks and dropped.
"""

import os
from collections.abc import Iterator
from typing import Protocol

MAX_LINE_BYTES_ENV = "TRAILCHECK_MAX_LINE_BYTES"
DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024


class _LineReader(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def max_line_bytes() -> int:
    """The line cap: $TRAILCHECK_MAX_LINE_BYTES, else 10 MB."""
    try:
        return max(1, int(os.environ.get(MAX_LINE_BYTES_ENV) or DEFAULT_MAX_LINE_BYTES))
    except ValueError:
        return DEFAULT_MAX_LINE_BYTES


def too_long(limit: int) -> tuple[str, str]:
    """The problem and the fix to report for a line over `limit` bytes."""
    return (
        f"line longer than {limit:,} bytes, skipped",
        f"split the trace, or raise ${MAX_LINE_BYTES_ENV} (now {limit:,})",
    )


def read_lines(handle: _LineReader, limit: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line of `handle`; the bytes are None for a line over `limit`."""
    cap = max_line_bytes() if limit is None else limit
    number = 0
    while chunk := handle.readline(cap + 1):
        number += 1
        if len(chunk) > cap and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = handle.readline(_DRAIN_CHUNK)
            yield number, None
            continue
        yield number, chunk
