"""Where tool responses come from besides the results database: recorded traces (JSON Lines).

Each line is one `Trace` (trailcheck/models/trace.py): OpenAI chat messages plus metadata. Its tool
messages are the responses; a tool message with an error (or an ``Error:`` text, or an ``error``
key) is a failed call and carries nothing to judge.
"""

from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from trailcheck.models import Trace
from trailcheck.models.contract import RecordedCalls


class TraceFileError(ValueError):
    """A traces file that cannot be read; the message names the file, the line and the fix."""


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def responses_from_traces(
    path: str | Path, since: datetime | None = None, until: datetime | None = None
) -> RecordedCalls:
    """The tool responses of every trace in the file (with a time window: of traces stamped inside it)."""
    path = Path(path)
    if not path.is_file():
        raise TraceFileError(f"{path}: traces file not found; fix: give a JSON Lines file of traces")
    found = RecordedCalls()
    windowed = since is not None or until is not None
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                trace = Trace.model_validate_json(line)
            except ValidationError as exc:
                error = exc.errors()[0]
                where = ".".join(str(p) for p in error["loc"]) or "(line)"
                raise TraceFileError(
                    f"{path}:{number}: {where}: {error['msg']}; fix: each line is one JSON trace object "
                    "with `messages` (OpenAI chat format), see trailcheck/models/trace.py"
                ) from None
            if windowed:
                stamp = trace.timestamp and _aware(trace.timestamp)
                if stamp is None or (since and stamp < _aware(since)) or (until and stamp >= _aware(until)):
                    continue
            label = f"trace {trace.trace_id or f'{path.name}:{number}'}"
            found.add_steps(trace.to_trajectory().steps, label, trace.timestamp)
    return found
