"""Where tool responses come from besides the results database: recorded traces, in any trace format.

The traces are read by trailcheck/loading/traces (one reader per format). Their tool calls are
the responses; a failed call (see `ToolCall.failed` and trailcheck/models/tool_failure.py)
carries nothing to judge. A bad record stops the read: a contract inferred from part of a file
would be wrong without saying so.
"""

from datetime import UTC, datetime
from pathlib import Path

from trailcheck.loading.traces import BadRecord, TraceFileError, read_traces
from trailcheck.models.contract import RecordedCalls

__all__ = ["TraceFileError", "responses_from_traces"]


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def responses_from_traces(
    path: str | Path, since: datetime | None = None, until: datetime | None = None, fmt: str = "auto"
) -> RecordedCalls:
    """The tool responses of every trace in the file (with a time window: of traces stamped inside it)."""
    path = Path(path)
    found = RecordedCalls()
    windowed = since is not None or until is not None
    for item in read_traces(path, fmt):
        if isinstance(item, BadRecord):
            raise TraceFileError(item.render().replace("\n    fix:", "; fix:"))
        trace = item.trace
        if windowed:
            stamp = trace.timestamp and _aware(trace.timestamp)
            if stamp is None or (since and stamp < _aware(since)) or (until and stamp >= _aware(until)):
                continue
        label = f"trace {trace.trace_id or f'{path.name}:{item.line}'}"
        found.add_steps(item.to_trajectory().steps, label, trace.timestamp)
    return found
