"""Reading recorded traces in the formats real agent stacks emit, behind one interface.

`read_traces(path, fmt)` streams `ReadTrace`s (a `Trace`: OpenAI chat messages plus metadata, the
one shape every format converts to) and `BadRecord`s (a record that cannot be read: file:line,
field, fix). `fmt` is ``auto`` (detected from the first records) or a name from `FORMATS`, the
explicit list of readers, one module each.
"""

from trailcheck.loading.traces.base import BadRecord, ReadOptions, ReadTrace, Record, TraceReader
from trailcheck.loading.traces.errors import TraceFileError, UnknownFormatError
from trailcheck.loading.traces.registry import FORMATS, format_names, get_format, read_traces

__all__ = [
    "FORMATS",
    "BadRecord",
    "ReadOptions",
    "ReadTrace",
    "Record",
    "TraceFileError",
    "TraceReader",
    "UnknownFormatError",
    "format_names",
    "get_format",
    "read_traces",
]
