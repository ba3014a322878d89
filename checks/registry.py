"""Named checks that judge any trajectory, replayed or live, with or without a case.

A case's expectations say what one conversation must do; these checks look for failure modes
that need no expectations (a hidden tool failure, an injection that was followed, a forgotten
constraint). The same registry serves `trailcheck score` on recorded traces, live sampling and
replays, so a live trace and a replayed case are judged alike.

A check is a function ``(trajectory, case) -> Verdict``; `case` is None for a live trace. The
built-in checks are one explicit list, `TRACE_CHECKS`, in the order their verdicts are listed:
nothing is registered by importing a module. A caller with checks of its own passes them as
`available` (a name -> check mapping) to `resolve` and `checks_named`, or as `checks` to `score_trace`.

The injection checks depend on which tools are trusted and which have side effects: the inventory's
`trusted` and `side_effects` flags (`TaintPolicy.from_inventory`). `trace_checks(policy)` is the same
list with those two checks judging under that policy; every path that has an inventory (a replay's
`tools`, `trailcheck score --inventory`, live sampling's `inventory`) scores with it.
"""

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from trailcheck.checks import context_retention, goal, provenance, security, silent_error, tool_failure
from trailcheck.checks.base import CheckContext
from trailcheck.checks.provenance import TaintPolicy
from trailcheck.models import Case, Trajectory, Verdict, VerdictStatus

TraceCheck = Callable[[Trajectory, Case | None], Verdict]

__all__ = ["TRACE_CHECKS", "TraceCheck", "UnknownCheckError", "checks_named", "resolve", "score_trace"]

TRACE_CHECKS: Mapping[str, TraceCheck] = MappingProxyType(
    {
        silent_error.NAME: silent_error.silent_error,
        tool_failure.NAME: tool_failure.tool_call_failure,
        security.NAME: security.security,
        provenance.FOLLOWED: provenance.injection_followed,
        provenance.SEEN: provenance.injection_seen,
        context_retention.NAME: context_retention.context_saturation,
        goal.NAME: goal.goal_alignment,
    }
)


def trace_checks(policy: TaintPolicy | None = None) -> dict[str, TraceCheck]:
    """The built-in trace checks by name, in the order their verdicts are listed.

    With `policy` (e.g. `TaintPolicy.from_inventory(inventory)`), injection_followed and
    injection_seen judge under it instead of the default (every tool untrusted, side effects
    guessed from tool names).
    """
    checks = dict(TRACE_CHECKS)
    if policy is not None:
        checks.update(provenance.injection_checks(policy))  # same keys: the order is kept
    return checks


class UnknownCheckError(KeyError):
    """A check name that is not in the list; the message lists the known ones."""

    def __str__(self) -> str:
        return str(self.args[0])


def resolve(
    names: Iterable[str] | None = None, available: Mapping[str, TraceCheck] = TRACE_CHECKS
) -> dict[str, TraceCheck]:
    """The checks called `names` among `available` (all when None); unknown names are refused."""
    known = dict(available)
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
    """Run `checks` (the built-in ones when None) on a trajectory; a crashing check is an errored verdict."""
    verdicts = []
    for name, check in (checks if checks is not None else TRACE_CHECKS).items():
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
    """A trace check as a replay check (checks/base.py): the case's trials run it too."""

    name: str
    fn: TraceCheck

    def evaluate(self, ctx: CheckContext) -> Verdict:
        """Judge the trial's trajectory with the case at hand."""
        return self.fn(ctx.trajectory, ctx.case)


def checks_named(
    names: Iterable[str] | None, available: Mapping[str, TraceCheck] = TRACE_CHECKS
) -> list[RegisteredCheck]:
    """Replay checks for the trace checks called `names` (every built-in one when None)."""
    return [RegisteredCheck(name, fn) for name, fn in resolve(names, available).items()]
