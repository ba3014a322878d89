"""Traces from the store `trailcheck collect` writes (``otlp-store:DIR``), read by time window.

Only the segments whose receive times can hold traces started in [since, until) are opened
(trailcheck/loading/sources/segment_store.py names them by time), and of their traces only those started in
the window are given. A trace is given once it is complete: its root span has arrived, or no span
of it arrived for `settle_s` (spans of a trace whose root never comes are not held back forever).
An incomplete trace is left for a later run.
"""

import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from trailcheck.loading.sources.base import BadRecords
from trailcheck.loading.sources.errors import TraceSourceError
from trailcheck.loading.sources.jsonl import record_error
from trailcheck.loading.sources.segment_store import segments_in_window
from trailcheck.loading.traces import BadRecord, ReadOptions, TraceFileError
from trailcheck.loading.traces.framing import records
from trailcheck.loading.traces.otlp import collect_spans, convert_spans
from trailcheck.loading.traces.otlp_decode import Event, Span
from trailcheck.models import Trace


def _ns(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1e9)


class OtlpStoreSource:
    """The complete traces of a collect store started in [since, until)."""

    def __init__(
        self,
        directory: str | Path,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        settle_s: float = 60.0,
        max_bad: int = 100,
    ) -> None:
        self.directory = Path(directory)
        self.since_ns, self.until_ns = _ns(since), _ns(until)
        self.settle_ns = int(settle_s * 1e9)
        self.bad = BadRecords(max_bad)
        self.segments_read = 0

    def describe(self) -> str:
        """The store's directory."""
        return f"otlp-store:{self.directory}"

    def _complete(self, group: list[Span], now_ns: int) -> bool:
        if any(not s.parent_id for s in group):
            return True
        return max(s.end_ns for s in group) <= now_ns - self.settle_ns

    def _in_window(self, group: list[Span]) -> bool:
        start = min(s.start_ns for s in group)
        if self.since_ns is not None and start < self.since_ns:
            return False
        return self.until_ns is None or start < self.until_ns

    def __iter__(self) -> Iterator[Trace]:
        if not self.directory.is_dir():
            raise TraceSourceError(
                f"{self.directory}: no such trace store (a directory `trailcheck collect` writes)"
            )
        spans: dict[str, list[Span]] = defaultdict(list)
        events: dict[str, list[Event]] = defaultdict(list)
        segments = segments_in_window(self.directory, self.since_ns, self.until_ns)
        self.segments_read = len(segments)
        for segment in segments:
            try:
                for bad in collect_spans(segment, records(segment), spans, events):
                    self.bad.skip(record_error(bad))
            except (TraceFileError, FileNotFoundError):
                continue  # closed (renamed) while listed: its spans are read under the new name next run
        now = time.time_ns()
        kept = {t: g for t, g in spans.items() if self._complete(g, now) and self._in_window(g)}
        for item in convert_spans(self.directory, kept, events, ReadOptions()):
            if isinstance(item, BadRecord):
                self.bad.skip(record_error(item))
            else:
                yield item.trace
