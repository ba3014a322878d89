"""Checks on the path: which tools were called, with what, and how many steps it took."""

from dataclasses import dataclass, field

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.checks.matching import match_tool_calls
from trailcheck.models import FailureCategory, MatchMode, ToolCall, ToolCallSpec, Verdict


def _step_of_call(ctx: CheckContext, call_index: int | None) -> int | None:
    if call_index is None:
        return None
    seen = -1
    for i, step in enumerate(ctx.trajectory.steps):
        if isinstance(step, ToolCall):
            seen += 1
            if seen == call_index:
                return i
    return None


@dataclass
class ToolCallsMatch:
    """The observed tool calls match the expected ones under a match mode."""

    calls: list[ToolCallSpec]
    mode: MatchMode = MatchMode.STRICT
    name: str = "tool_calls"
    failure_category: FailureCategory = FailureCategory.TOOL_CALL_FAILURE

    def evaluate(self, ctx: CheckContext) -> Verdict:
        outcome = match_tool_calls(self.mode, self.calls, ctx.trajectory.tool_calls)
        if outcome.ok:
            return passed(self.name)
        reason = f"[{self.mode.value}] {outcome.reason}"
        return failed(self.name, reason, self.failure_category, _step_of_call(ctx, outcome.call_index))


@dataclass
class NeverCall:
    """None of these tools may be called."""

    tools: list[str] = field(default_factory=list)
    name: str = "never_call"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        forbidden = set(self.tools)
        for i, step in enumerate(ctx.trajectory.steps):
            if isinstance(step, ToolCall) and step.name in forbidden:
                return failed(self.name, f"called forbidden {step.signature()}", self.failure_category, i)
        return passed(self.name)


@dataclass
class MaxToolCalls:
    """At most `limit` tool calls in the trial."""

    limit: int
    name: str = "max_tool_calls"
    failure_category: FailureCategory = FailureCategory.REASONING_DRIFT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        count = len(ctx.trajectory.tool_calls)
        if count <= self.limit:
            return passed(self.name)
        return failed(self.name, f"{count} tool calls, at most {self.limit} allowed", self.failure_category)


@dataclass
class MaxSteps:
    """At most `limit` steps (messages and tool calls) in the trial."""

    limit: int
    name: str = "max_steps"
    failure_category: FailureCategory = FailureCategory.REASONING_DRIFT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        count = len(ctx.trajectory.steps)
        if count <= self.limit:
            return passed(self.name)
        return failed(self.name, f"{count} steps, at most {self.limit} allowed", self.failure_category)
