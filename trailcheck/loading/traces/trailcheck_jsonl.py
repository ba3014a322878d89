"""trailcheck's own format: JSON Lines, one `Trace` (OpenAI chat messages plus metadata) per line.

The line format is documented in trailcheck/models/trace.py. Every other reader converts to it.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trailcheck.loading.traces.base import BadRecord, ReadOptions, ReadTrace, Record
from trailcheck.loading.traces.framing import NotJson
from trailcheck.models import Trace
from trailcheck.models.openai_messages import MessageFormatError

_FIXES = {
    "json_invalid": "each line must be one complete JSON object (no trailing commas, no line breaks inside)",
    "model_type": "each line must be a JSON object with a `messages` list",
    "missing": "add the field",
    "too_short": "give at least one message",
    "list_type": "make it a list",
    "dict_type": "make it a JSON object",
    "greater_than_equal": "use a value of at least {ge}",
    "less_than_equal": "use a value of at most {le}",
    "float_parsing": "use a number",
    "float_type": "use a number",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "string_type": "use a string",
    "bool_type": "use true or false",
    "bool_parsing": "use true or false",
    "datetime_parsing": "use an ISO 8601 timestamp, e.g. 2026-11-20T10:00:00Z",
    "datetime_from_date_parsing": "use an ISO 8601 timestamp, e.g. 2026-11-20T10:00:00Z",
}
_JSON_FIX = _FIXES["json_invalid"]


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def bad_from_validation(path: Path, number: int, exc: ValidationError) -> BadRecord:
    """The first problem of `exc` as a BadRecord with the field and the fix."""
    error = exc.errors()[0]
    kind = error["type"]
    problem = error["msg"]
    if kind == "json_invalid":
        problem = f"not valid JSON: {error.get('ctx', {}).get('error', problem)}"
    elif kind == "model_type":
        problem = f"a trace is a JSON object, got {type(error.get('input')).__name__}"
    elif kind == "extra_forbidden":
        problem = f"unknown field {error['loc'][-1]!r}"
    fix = _FIXES.get(kind, "correct the field (the trace format is in README, 'Scoring recorded traces')")
    fix = fix.format(**error.get("ctx", {})) if "{" in fix else fix
    more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
    return BadRecord(path, number, _field(error["loc"]), problem + more, fix)


class TrailcheckReader:
    """JSON Lines of trailcheck traces (chat messages + metadata)."""

    name = "trailcheck"
    description = "JSON Lines, one trace per line: OpenAI chat `messages` plus trace_id, task_type, tokens..."
    binary = False

    def sniff(self, value: Any) -> bool:
        """A JSON object with a `messages` list (the Anthropic reader, tried first, claims its blocks)."""
        return isinstance(value, dict) and isinstance(value.get("messages"), list)

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """One trace per record; a bad record names its field and the fix."""
        for record in records:
            try:
                if record.raw:
                    trace = Trace.model_validate_json(record.raw)
                elif isinstance(record.value, NotJson):
                    yield BadRecord(path, record.line, "", f"not valid JSON: {record.value.error}", _JSON_FIX)
                    continue
                else:
                    trace = Trace.model_validate(record.value)
                trajectory = trace.to_trajectory(strict=True) if options.strict else None
            except ValidationError as exc:
                yield bad_from_validation(path, record.line, exc)
                continue
            except MessageFormatError as exc:
                yield BadRecord(path, record.line, exc.field, exc.problem, exc.fix)
                continue
            yield ReadTrace(record.line, trace, trajectory)
