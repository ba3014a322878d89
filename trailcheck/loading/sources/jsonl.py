"""Traces from JSONL files: one trace per line (the format of `trailcheck score`), gzip allowed."""

import gzip
from collections.abc import Iterator
from io import BufferedIOBase
from pathlib import Path

from trailcheck.loading.sources.base import BadRecords, parse_trace_json
from trailcheck.loading.sources.errors import TraceRecordError, TraceSourceError, TraceSourceMissing
from trailcheck.models import Trace


class JsonlSource:
    """Stream the traces of one or more JSONL files (``.jsonl`` or ``.jsonl.gz``), line by line.

    Blank lines are ignored; a bad line is reported as ``file:line: field '...': problem``.
    """

    def __init__(self, *paths: str | Path, max_bad: int = 100) -> None:
        if not paths:
            raise TraceSourceError("no trace file given")
        self.paths = [Path(p) for p in paths]
        self.bad = BadRecords(max_bad)

    def describe(self) -> str:
        """The file names."""
        return ", ".join(str(p) for p in self.paths)

    def _open(self, path: Path) -> BufferedIOBase:
        try:
            return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
        except FileNotFoundError:
            raise TraceSourceMissing(f"{path}: no such trace file") from None
        except OSError as exc:
            raise TraceSourceError(f"{path}: cannot read trace file: {exc.strerror or exc}") from None

    def __iter__(self) -> Iterator[Trace]:
        for path in self.paths:
            with self._open(path) as handle:
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        yield parse_trace_json(line, f"{path}:{number}")
                    except TraceRecordError as exc:
                        self.bad.skip(exc)
