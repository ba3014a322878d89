"""Checks on the path: which tools were called, with what, and how many steps it took."""

from dataclasses import dataclass, field

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.checks.matching import counted_calls, match_tool_calls
from trailcheck.models import (
    CallCount,
    EndReason,
    FailureCategory,
    MatchMode,
    ToolCall,
    ToolCallsExpectation,
    ToolCallSpec,
    Verdict,
)


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
    """The observed tool calls match the expected ones under a match mode.

    `scope` (a `tool_calls` block with `only` / `tools_matching`) leaves calls to other tools out;
    `count: succeeded` leaves failed calls out (they changed nothing).
    """

    calls: list[ToolCallSpec]
    mode: MatchMode = MatchMode.STRICT
    scope: ToolCallsExpectation | None = None
    count: CallCount = CallCount.ATTEMPTS
    name: str = "tool_calls"
    failure_category: FailureCategory = FailureCategory.TOOL_CALL_FAILURE

    def evaluate(self, ctx: CheckContext) -> Verdict:
        observed = ctx.trajectory.tool_calls
        kept = counted_calls(observed, self.scope, self.count)
        outcome = match_tool_calls(self.mode, self.calls, [observed[i] for i in kept])
        if outcome.ok:
            return passed(self.name)
        counted = self._counted_label()
        reason = f"[{self.mode.value}{counted}] {outcome.reason}"
        index = kept[outcome.call_index] if outcome.call_index is not None else None
        return failed(self.name, reason, self.failure_category, _step_of_call(ctx, index))

    def _counted_label(self) -> str:
        parts = []
        if self.scope is not None and self.scope.only is not None:
            parts.append(f"only {', '.join(self.scope.only)}")
        elif self.scope is not None and self.scope.tools_matching is not None:
            parts.append(f"tools matching /{self.scope.tools_matching}/")
        if ((self.scope.count if self.scope else None) or self.count) is CallCount.SUCCEEDED:
            parts.append("succeeded calls")
        return f", {'; '.join(parts)}" if parts else ""


@dataclass
class NeverCall:
    """None of these tools may be called."""

    tools: list[str] = field(default_factory=list)
    count: CallCount = CallCount.ATTEMPTS
    name: str = "never_call"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        forbidden = set(self.tools)
        for i, step in enumerate(ctx.trajectory.steps):
            if not (isinstance(step, ToolCall) and step.name in forbidden):
                continue
            if self.count is CallCount.SUCCEEDED and step.failed:
                continue  # a refused attempt changed nothing
            return failed(self.name, f"called forbidden {step.signature()}", self.failure_category, i)
        return passed(self.name)


@dataclass
class MaxToolCalls:
    """At most `limit` tool calls in the trial."""

    limit: int
    count: CallCount = CallCount.ATTEMPTS
    name: str = "max_tool_calls"
    failure_category: FailureCategory = FailureCategory.REASONING_DRIFT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        made = len(counted_calls(ctx.trajectory.tool_calls, None, self.count))
        if made <= self.limit:
            return passed(self.name)
        what = "tool calls" if self.count is CallCount.ATTEMPTS else "succeeded tool calls"
        return failed(self.name, f"{made} {what}, at most {self.limit} allowed", self.failure_category)


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


@dataclass
class Completed:
    """The conversation ended normally: not cut off at a step limit, not truncated."""

    name: str = "completed"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        ended = ctx.trajectory.ended
        if ended is EndReason.NORMAL:
            return passed(self.name)
        why = "was cut off at the step limit" if ended is EndReason.STEP_LIMIT else "is truncated"
        return failed(self.name, f"the conversation {why}; it did not end normally", self.failure_category)
