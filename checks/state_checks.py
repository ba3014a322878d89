"""The `state` check: what the environment's probes read after the conversation (see
trailcheck/models/environment.py) matches the case's state assertions.

The readings are taken by the replay (agents/environment.py) and kept on the trajectory, so this
check is pure, and a stored trial shows the evidence it was judged on. A probe that could not be
read makes the verdict errored: an unknown outcome is never a pass. A probe the agent cannot
serve (no `{tools_url}` for an agent given by URL) makes it skipped, saying why.
"""

from dataclasses import dataclass, field
from typing import Any

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.checks.matching import match_arg
from trailcheck.models import FailureCategory, StateAssertion, Verdict, VerdictStatus

_ABSENT = object()


def value_at(document: Any, path: str) -> Any:
    """The value at a dotted `path` ("" is the document; a number indexes a list), else _ABSENT."""
    if not path:
        return document
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return _ABSENT
    return value


@dataclass
class StateMatch:
    """Every state assertion holds on what its probe read after the conversation."""

    assertions: list[StateAssertion] = field(default_factory=list)
    name: str = "state"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        trajectory = ctx.trajectory
        if "reset" in trajectory.state_errors:
            return self._errored(trajectory.state_errors["reset"])
        skipped = sorted({a.probe for a in self.assertions} & set(trajectory.state_skipped))
        if skipped:
            reason = f"probe {skipped[0]!r} not read: {trajectory.state_skipped[skipped[0]]}"
            return Verdict(check=self.name, status=VerdictStatus.SKIPPED, reason=reason)
        for assertion in self.assertions:
            if assertion.probe in trajectory.state_errors:
                return self._errored(f"probe {assertion.probe!r}: {trajectory.state_errors[assertion.probe]}")
            if assertion.probe not in trajectory.state:
                return self._errored(
                    f"probe {assertion.probe!r} was not read (the trial ran without its environment)"
                )
            value = value_at(trajectory.state[assertion.probe], assertion.path)
            problem = (
                match_arg(assertion.matcher) if value is _ABSENT else match_arg(assertion.matcher, value)
            )
            if problem:
                return failed(self.name, f"state {assertion.describe()} {problem}", self.failure_category)
        return passed(self.name)

    def _errored(self, reason: str) -> Verdict:
        return Verdict(
            check=self.name,
            status=VerdictStatus.ERRORED,
            reason=reason,
            failure_category=self.failure_category,
        )
