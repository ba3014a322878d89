"""What a check is, and the one place where a check's outcome becomes a Verdict.

A check is a small object (usually a dataclass whose fields are its settings) with a
`name` and one method, ``evaluate(ctx)``, sync or async. It may return a `Verdict`, a
bool (passed or not), a float score in [0, 1] (passes at >= 0.5 unless it returns a
Verdict), or a str (a failure reason; the empty string passes). A crash inside a
check is data: `run_check` records it as an errored verdict with the exception type,
message and the last frames of the traceback, and the run goes on.
"""

import inspect
import traceback
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from trailcheck.models import Case, FailureCategory, Trajectory, Verdict, VerdictStatus


@dataclass(frozen=True)
class CheckContext:
    """What a check sees: the case (with its expectations) and one trial's trajectory."""

    case: Case
    trajectory: Trajectory


@runtime_checkable
class Check(Protocol):
    """A judgement on a trajectory."""

    @property
    def name(self) -> str:
        """The name its verdicts carry."""
        ...

    def evaluate(self, ctx: CheckContext) -> Any:
        """Return a Verdict, bool, float score or failure-reason str (or an awaitable of one)."""
        ...


def check_name(check: object) -> str:
    """The check's `name` attribute, else its class name."""
    return str(getattr(check, "name", None) or type(check).__name__)


def _category(check: object) -> FailureCategory | None:
    value = getattr(check, "failure_category", None)
    return FailureCategory(value) if value else None


def to_verdict(check: object, outcome: Any) -> Verdict:
    """Turn whatever a check returned into a Verdict; an unknown return type is the check's bug."""
    name = check_name(check)
    category = _category(check)
    if isinstance(outcome, Verdict):
        if outcome.failure_category is None and outcome.counts_as_failure and category:
            return outcome.model_copy(update={"failure_category": category})
        return outcome
    if isinstance(outcome, bool):
        status = VerdictStatus.PASSED if outcome else VerdictStatus.FAILED
        return Verdict(check=name, status=status, failure_category=None if outcome else category)
    if isinstance(outcome, int | float):
        passed = float(outcome) >= 0.5
        return Verdict(
            check=name,
            status=VerdictStatus.PASSED if passed else VerdictStatus.FAILED,
            score=float(outcome),
            reason="" if passed else f"score {float(outcome):.2f} is below 0.5",
            failure_category=None if passed else category,
        )
    if isinstance(outcome, str):
        if not outcome:
            return Verdict(check=name, status=VerdictStatus.PASSED)
        return Verdict(check=name, status=VerdictStatus.FAILED, reason=outcome, failure_category=category)
    return Verdict(
        check=name,
        status=VerdictStatus.ERRORED,
        reason=f"check returned {type(outcome).__name__}; expected Verdict, bool, float or str",
        failure_category=category,
    )


async def run_check(check: object, ctx: CheckContext) -> Verdict:
    """Evaluate one check; never raises for the check's own failures."""
    try:
        # `check` is any object with evaluate(ctx) (a custom check's class is only duck-typed).
        outcome = check.evaluate(ctx)  # type: ignore[attr-defined]
        if inspect.isawaitable(outcome):
            outcome = await outcome
    except Exception as exc:  # a crashing check is recorded, not propagated
        frames = "".join(traceback.format_tb(exc.__traceback__, limit=-3)).strip()
        return Verdict(
            check=check_name(check),
            status=VerdictStatus.ERRORED,
            reason=f"{type(exc).__name__}: {exc}\n{frames}",
            failure_category=_category(check),
        )
    return to_verdict(check, outcome)


def passed(check: str) -> Verdict:
    """A passing verdict for the named check."""
    return Verdict(check=check, status=VerdictStatus.PASSED)


def failed(
    check: str, reason: str, category: FailureCategory | None, step_index: int | None = None
) -> Verdict:
    """A failing verdict with the reason a person can act on."""
    return Verdict(
        check=check,
        status=VerdictStatus.FAILED,
        reason=reason,
        failure_category=category,
        step_index=step_index,
    )
