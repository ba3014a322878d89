"""Named checks that judge any trajectory, replayed or live, with or without a case.

A case's expectations say what one conversation must do; these checks look for failure modes
that need no expectations (a hidden tool failure, an injection that was followed, a forgotten
constraint). The same registry serves `trailcheck score` on recorded traces, live sampling and
replays, so a live trace and a replayed case are judged alike.

A check is a function ``(trajectory, case) -> Verdict`` registered under a name with
`@trace_check("name")`; `case` is None for a live trace.
"""

import importlib
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from trailcheck.checks.base import CheckContext
from trailcheck.models import Case, Trajectory, Verdict, VerdictStatus

TraceCheck = Callable[[Trajectory, Case | None], Verdict]

_CHECKS: dict[str, TraceCheck] = {}

# Modules whose import registers checks; listed here so that asking for the registry loads them all.
CHECK_MODULES: tuple[str, ...] = (
    "trailcheck.checks.silent_error",
    "trailcheck.checks.tool_failure",
    "trailcheck.checks.security",
    "trailcheck.checks.provenance",
    "trailcheck.checks.context_retention",
    "trailcheck.checks.goal",
)


def trace_check(name: str) -> Callable[[TraceCheck], TraceCheck]:
    """Register `fn` under `name` (unique)."""

    def register(fn: TraceCheck) -> TraceCheck:
        if name in _CHECKS and _CHECKS[name] is not fn:
            raise ValueError(f"trace check {name!r} is registered twice")
        _CHECKS[name] = fn
        return fn

    return register


def trace_checks() -> dict[str, TraceCheck]:
    """Every registered check by name, in the order of CHECK_MODULES (other checks after them)."""
    for module in CHECK_MODULES:
        importlib.import_module(module)
    # The order of CHECK_MODULES, whatever order they were imported in: verdicts list in a stable order.
    rank = {module: i for i, module in enumerate(CHECK_MODULES)}
    ordered = sorted(_CHECKS.items(), key=lambda item: rank.get(item[1].__module__, len(rank)))
    return dict(ordered)


class UnknownCheckError(KeyError):
    """A check name that is not registered; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def resolve(names: Iterable[str] | None = None) -> dict[str, TraceCheck]:
    """The checks called `names` (all when None), refusing unknown names with the list of known ones."""
    known = trace_checks()
    if names is None:
        return known
    wanted = list(names)
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise UnknownCheckError(
            f"unknown check(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known)) or 'none'}"
        )
    return {n: known[n] for n in wanted}


def score_trace(
    trajectory: Trajectory, case: Case | None = None, checks: dict[str, TraceCheck] | None = None
) -> list[Verdict]:
    """Run `checks` (all registered when None) on one trajectory; a crashing check is an errored verdict."""
    verdicts = []
    for name, check in (checks if checks is not None else trace_checks()).items():
        try:
            verdicts.append(check(trajectory, case))
        except Exception as exc:  # a crashing check is data, never the end of a run
            frames = "".join(traceback.format_tb(exc.__traceback__, limit=-2)).strip()
            verdicts.append(
                Verdict(
                    check=name, status=VerdictStatus.ERRORED, reason=f"{type(exc).__name__}: {exc}\n{frames}"
                )
            )
    return verdicts


@dataclass(frozen=True)
class RegisteredCheck:
    """A registered trace check as a replay check (checks/base.py): the case's trials run it too."""

    name: str
    fn: TraceCheck

    def evaluate(self, ctx: CheckContext) -> Verdict:
        """Judge the trial's trajectory with the case at hand."""
        return self.fn(ctx.trajectory, ctx.case)


def checks_named(names: Iterable[str] | None) -> list[RegisteredCheck]:
    """Replay checks for the trace checks called `names` (every registered one when None)."""
    return [RegisteredCheck(name, fn) for name, fn in resolve(names).items()]
