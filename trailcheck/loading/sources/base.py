"""What every trace source is: something that streams `Trace`s, and the bad-record policy they share.

A source yields one trace at a time and never holds the whole stream, so memory stays bounded
whatever its size. A record that is not a valid trace is, by default, skipped and counted
(`BadRecords`), up to a limit; past the limit, or with ``max_bad=0``, reading stops with an error
naming the place and the field. Skipping is the default because a live stream always carries a
few broken lines and one of them must not stop the health check of the other million; the count
and the first problems are reported with the run, so nothing is skipped silently.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import ValidationError

from trailcheck.loading.sources.errors import TooManyBadRecords, TraceRecordError
from trailcheck.models import Trace

KEPT_PROBLEMS = 20
TRACE_FIX = (
    "each record must be a JSON object with a non-empty 'messages' list (see trailcheck/models/trace.py)"
)


@runtime_checkable
class TraceSource(Protocol):
    """A stream of traces. `describe()` names the source in reports (no secrets)."""

    bad: "BadRecords"

    def __iter__(self) -> Iterator[Trace]:
        """Yield traces one by one, in the source's order."""
        ...

    def describe(self) -> str:
        """A short, secret-free name of the source."""
        ...


@dataclass
class BadRecords:
    """Records skipped so far; raises `TooManyBadRecords` past `max_bad` (0: the first bad one raises)."""

    max_bad: int = 100
    count: int = 0
    problems: list[str] = field(default_factory=list)

    def skip(self, error: TraceRecordError) -> None:
        """Count `error`, or raise when the limit is passed."""
        if self.max_bad == 0:
            raise error
        self.count += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append(str(error))
        if self.count > self.max_bad:
            shown = "\n".join(self.problems[:5])
            raise TooManyBadRecords(
                f"more than {self.max_bad} bad trace records; the first ones:\n{shown}\n"
                "    fix: repair the records, or raise the limit (--max-bad-records)"
            )


def field_problem(exc: ValidationError) -> str:
    """The first validation problem, naming the field: ``field 'messages': List should have ...``."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "record"
    return f"field '{where}': {first['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )


def parse_trace_json(raw: str | bytes, where: str) -> Trace:
    """One JSON text as a Trace, or `TraceRecordError` naming `where` and the field."""
    try:
        return Trace.model_validate_json(raw)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise TraceRecordError(where, f"not valid JSON: {exc.errors()[0]['msg']}", TRACE_FIX) from None
        raise TraceRecordError(where, field_problem(exc), TRACE_FIX) from None


def parse_trace_obj(obj: Any, where: str) -> Trace:
    """One decoded JSON value as a Trace, or `TraceRecordError` naming `where` and the field."""
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise TraceRecordError(where, f"not valid JSON: {exc}", TRACE_FIX) from None
    try:
        return Trace.model_validate(obj)
    except ValidationError as exc:
        raise TraceRecordError(where, field_problem(exc), TRACE_FIX) from None
