"""What every trace reader is: one format's records in, `Trace`s (or located problems) out.

A reader never raises for one bad record: it yields a `BadRecord` naming the place, the field and
the fix, and goes on with the next record. `Trace` (trailcheck/models/trace.py, OpenAI chat
messages plus metadata) is the one shape every format is converted to, so sampling, scoring,
promotion and contracts read any format through the same model.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trailcheck.models import Trace, Trajectory


class Record:
    """One framed record of a file, with the line it starts on.

    `raw` is the record's bytes (a JSON line, or a whole protobuf file); `value` is the decoded
    JSON, decoded on first use, so a reader that validates the bytes directly never decodes twice.
    """

    __slots__ = ("_decode", "_value", "binary", "line", "raw")

    def __init__(
        self,
        line: int,
        raw: bytes,
        decode: Callable[[bytes], Any] | None = None,
        value: Any = None,
        binary: bool = False,
    ) -> None:
        self.line, self.raw, self._decode, self._value, self.binary = line, raw, decode, value, binary

    @property
    def value(self) -> Any:
        """The decoded JSON value (a `NotJson` for a line that is not JSON; None for binary records)."""
        if self._decode is not None:
            self._value, self._decode = self._decode(self.raw), None
        return self._value


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be read as a trace, and how to fix it."""

    path: Path
    line: int
    field: str
    problem: str
    fix: str

    @property
    def where(self) -> str:
        """``file:line``."""
        return f"{self.path}:{self.line}"

    def render(self) -> str:
        """``file:line: field: problem`` and the fix on the next line."""
        text = (
            f"{self.where}: {self.field}: {self.problem}" if self.field else f"{self.where}: {self.problem}"
        )
        return f"{text}\n    fix: {self.fix}"


CONVERSION_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)


def conversion_problem(exc: Exception) -> str:
    """A record that has the format's shape but a value of the wrong kind inside (``"tokens": "x"``)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"a value cannot be read ({type(exc).__name__}: {first[:160]})"


@dataclass(frozen=True)
class ReadTrace:
    """A trace read from a file: the line it starts on, the trace in trailcheck's shape, and (when
    the reader already built it) its trajectory."""

    line: int
    trace: Trace
    trajectory: Trajectory | None = None

    def to_trajectory(self) -> Trajectory:
        """The trajectory the checks judge."""
        return self.trajectory if self.trajectory is not None else self.trace.to_trajectory()


@dataclass(frozen=True)
class ReadOptions:
    """Settings every reader takes: the attribute naming the task type; `strict` builds each trajectory
    strictly (a malformed chat message is a BadRecord, not a lenient guess)."""

    task_type_attribute: str = "trailcheck.task_type"
    strict: bool = False


class TraceReader(Protocol):
    """One trace format. `sniff` says whether a decoded record is in it; `read` converts records.

    `binary` says the reader also takes a file that is not JSON (handed over as one binary record).
    """

    name: str
    description: str
    binary: bool

    def sniff(self, value: Any) -> bool:
        """Whether `value` (one decoded record) is in this format."""
        ...

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """The traces of `records`, in order, with a `BadRecord` for each one that cannot be read."""
        ...
