"""Where live traces come from: JSONL files, an HTTP endpoint with cursor pages, a SQL table.

Each source streams `Trace`s (trailcheck/models/trace.py) and shares the bad-record policy of
`base.BadRecords`. `open_source(spec)` picks one from a string, as the CLI and the flow take it.
"""

from trailcheck.loading.sources.base import BadRecords, TraceSource
from trailcheck.loading.sources.errors import (
    TooManyBadRecords,
    TraceRecordError,
    TraceSourceError,
    TraceSourceMissing,
)
from trailcheck.loading.sources.http import HttpSource
from trailcheck.loading.sources.jsonl import JsonlSource
from trailcheck.loading.sources.spec import open_source
from trailcheck.loading.sources.sql import SqlSource

__all__ = [
    "BadRecords",
    "HttpSource",
    "JsonlSource",
    "SqlSource",
    "TooManyBadRecords",
    "TraceRecordError",
    "TraceSource",
    "TraceSourceError",
    "TraceSourceMissing",
    "open_source",
]
