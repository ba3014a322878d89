"""The trace store `trailcheck collect` writes and the `otlp-store:` source reads.

A directory of segments, each a file of OTLP/JSON export requests, one per line (the format of
the OTLP file exporter, so `trailcheck score --format otlp` reads a segment as it is). A batch
of lines is written and fsync'd before any request in it is acknowledged; a segment is closed
(renamed ``seg-<first>-<last>.jsonl``, the receive times in ns, the directory fsync'd) when it is
too big or too old, so a reader picks the segments of a time window from their names alone. The
open segment is ``open-<first>.jsonl``; after a crash it is closed on the next start, and a
line cut short by the crash (never acknowledged) is dropped by the reader as a bad record.
"""

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

_CLOSED = re.compile(r"seg-(\d+)-(\d+)\.jsonl$")
_OPEN = re.compile(r"open-(\d+)\.jsonl$")


@dataclass
class _Open:
    path: Path
    fd: int
    first_ns: int
    last_ns: int
    size: int


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SegmentStore:
    """Appends batches of lines to the open segment, durably; one writer at a time (the receiver's)."""

    def __init__(self, directory: Path, max_bytes: int = 64 * 1024 * 1024, max_age_s: float = 300.0) -> None:
        self.directory = directory
        self.max_bytes, self.max_age_ns = max_bytes, int(max_age_s * 1e9)
        directory.mkdir(parents=True, exist_ok=True)
        self._open: _Open | None = None
        for stale in sorted(directory.glob("open-*.jsonl")):  # left open by a crash
            match = _OPEN.search(stale.name)
            if match:
                self._close_file(stale, int(match.group(1)), stale.stat().st_mtime_ns)

    def _close_file(self, path: Path, first_ns: int, last_ns: int) -> None:
        path.rename(self.directory / f"seg-{first_ns:020d}-{max(last_ns, first_ns):020d}.jsonl")
        _fsync_dir(self.directory)

    def append(self, lines: list[bytes]) -> None:
        """Write `lines` (each ending in a newline) and fsync; only then may their senders be answered."""
        now = time.time_ns()
        if self._open is not None and (
            self._open.size >= self.max_bytes or now - self._open.first_ns >= self.max_age_ns
        ):
            self.close()
        if self._open is None:
            path = self.directory / f"open-{now:020d}.jsonl"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            _fsync_dir(self.directory)
            self._open = _Open(path, fd, now, now, 0)
        data = b"".join(lines)
        view = memoryview(data)
        while view:
            written = os.write(self._open.fd, view)
            view = view[written:]
        os.fsync(self._open.fd)
        self._open.size += len(data)
        self._open.last_ns = now

    def close(self) -> None:
        """Close the open segment (it becomes readable by time window)."""
        if self._open is None:
            return
        os.close(self._open.fd)
        self._close_file(self._open.path, self._open.first_ns, self._open.last_ns)
        self._open = None


def segments_in_window(
    directory: Path, since_ns: int | None = None, until_ns: int | None = None, lateness_ns: int = 3600 * 10**9
) -> list[Path]:
    """The segments that may hold traces started in [since, until), oldest first, the open one last.

    A trace is received after it started, by up to `lateness_ns`; segments received entirely
    before `since` or after `until` plus that lateness are skipped without being opened.
    """
    found: list[tuple[int, Path]] = []
    for path in directory.glob("*.jsonl"):
        closed, opened = _CLOSED.search(path.name), _OPEN.search(path.name)
        if closed:
            first, last = int(closed.group(1)), int(closed.group(2))
        elif opened:
            first, last = int(opened.group(1)), time.time_ns()
        else:
            continue
        if since_ns is not None and last < since_ns:
            continue
        if until_ns is not None and first > until_ns + lateness_ns:
            continue
        found.append((first, path))
    return [p for _, p in sorted(found)]
