"""Read a trace file (JSON Lines, one `Trace` per line) as a stream, with located errors.

Lines are read one at a time, so memory stays bounded whatever the file's size. A line that is
not a usable trace is not an exception: it comes out as a `BadTraceLine` naming the file, the
line, the field and the fix, and the lines after it are still read. Blank lines are skipped.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from trailcheck.models import Trace, Trajectory
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


@dataclass(frozen=True)
class BadTraceLine:
    """A line that could not be read as a trace, and how to fix it."""

    path: Path
    line: int
    field: str
    problem: str
    fix: str

    def render(self) -> str:
        """``file:line: field: problem`` and the fix on the next line."""
        where = f"{self.path}:{self.line}"
        text = f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        return f"{text}\n    fix: {self.fix}"


@dataclass(frozen=True)
class TraceLine:
    """A trace read from a line, already converted to the trajectory the checks judge."""

    line: int
    trace: Trace
    trajectory: Trajectory


class TraceFileError(Exception):
    """The file itself cannot be read (missing, a directory, not UTF-8)."""


def _field(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _from_validation(path: Path, number: int, exc: ValidationError) -> BadTraceLine:
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
    return BadTraceLine(path, number, _field(error["loc"]), problem + more, fix)


def read_trace_file(path: Path) -> Iterator[TraceLine | BadTraceLine]:
    """Each line of `path` as a TraceLine, or a BadTraceLine saying what is wrong with it."""
    if not path.is_file():
        raise TraceFileError(f"{path}: {'no such file' if not path.exists() else 'not a file'}")
    try:
        with path.open(encoding="utf-8") as lines:
            for number, text in enumerate(lines, start=1):
                if not text.strip():
                    continue
                try:
                    trace = Trace.model_validate_json(text)
                    trajectory = trace.to_trajectory(strict=True)
                except ValidationError as exc:
                    yield _from_validation(path, number, exc)
                    continue
                except MessageFormatError as exc:
                    yield BadTraceLine(path, number, exc.field, exc.problem, exc.fix)
                    continue
                yield TraceLine(number, trace, trajectory)
    except UnicodeDecodeError as exc:
        raise TraceFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
