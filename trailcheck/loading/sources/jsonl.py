"""Traces from files in any format the trace readers know (trailcheck/loading/traces), gzip allowed.

The name is historical: trailcheck's own JSON Lines is one format among several; the format is
detected from the first records unless one is named (``otlp:spans.jsonl`` in a source spec).
"""

from collections.abc import Iterator
from pathlib import Path

from trailcheck.loading.sources.base import BadRecords
from trailcheck.loading.sources.errors import TraceRecordError, TraceSourceError, TraceSourceMissing
from trailcheck.loading.traces import BadRecord, TraceFileError, read_traces
from trailcheck.models import Trace


def record_error(bad: BadRecord) -> TraceRecordError:
    """A reader's bad record as the sources' error: ``file:line: field 'x': problem``."""
    problem = f"field '{bad.field}': {bad.problem}" if bad.field else bad.problem
    return TraceRecordError(bad.where, problem, bad.fix)


class JsonlSource:
    """Stream the traces of one or more trace files, record by record.

    Blank lines are ignored; a bad record is reported as ``file:line: field '...': problem``.
    """

    def __init__(self, *paths: str | Path, max_bad: int = 100, fmt: str = "auto") -> None:
        if not paths:
            raise TraceSourceError("no trace file given")
        self.paths = [Path(p) for p in paths]
        self.fmt = fmt
        self.bad = BadRecords(max_bad)

    def describe(self) -> str:
        """The file names."""
        return ", ".join(str(p) for p in self.paths)

    def __iter__(self) -> Iterator[Trace]:
        for path in self.paths:
            if not path.exists():
                # Told apart from an unreadable file: a scheduled run may treat it as "nothing yet".
                raise TraceSourceMissing(f"{path}: no such trace file")
            try:
                for item in read_traces(path, self.fmt):
                    if isinstance(item, BadRecord):
                        self.bad.skip(record_error(item))
                    else:
                        yield item.trace
            except TraceFileError as exc:
                prefix = f"{path}: "
                reason = str(exc).removeprefix(prefix)
                raise TraceSourceError(f"{path}: cannot read trace file: {reason}") from None
