"""goal_alignment: turn by turn, does the trajectory still serve the stated goal?

The goal comes from the case (`expectations.goal`) or from a trace's `expectations.goal`:
`allowed_tools` (calls to anything else are drift, reported with the turn they happened in;
escalation tools always serve the goal) and `keywords` (the final answer must mention one,
unless the agent handed over to a human). Without a goal the check is skipped, and says so.

Drift on the way is reasoning_drift; a final answer that is off-goal is goal_misalignment.
"""

from trailcheck.checks._steps import excerpt, indices, is_escalation, short_call, where
from trailcheck.models import (
    AssistantMessage,
    Case,
    FailureCategory,
    Step,
    ToolCall,
    Trajectory,
    UserMessage,
    Verdict,
    VerdictStatus,
)

NAME = "goal_alignment"
_SHOWN = 3


def _last_reply(steps: list[Step]) -> tuple[int, AssistantMessage] | None:
    for i in range(len(steps) - 1, -1, -1):
        step = steps[i]
        if isinstance(step, AssistantMessage):
            return i, step
    return None


def goal_alignment(trajectory: Trajectory, case: Case | None) -> Verdict:
    """Fail on tool calls outside the goal's tools, or a final answer that mentions none of its keywords."""
    goal = case.expectations.goal if case is not None else None
    if goal is None:
        return Verdict(check=NAME, status=VerdictStatus.SKIPPED, reason="no goal given (expectations.goal)")
    steps = list(trajectory.steps)
    problems: list[str] = []
    involved: set[int] = set()
    first: int | None = None
    category = FailureCategory.REASONING_DRIFT
    allowed = set(goal.allowed_tools) if goal.allowed_tools is not None else None
    turn = 0
    for i, step in enumerate(steps):
        if isinstance(step, UserMessage):
            turn += 1
        elif (
            isinstance(step, ToolCall)
            and allowed is not None
            and step.name not in allowed
            and not is_escalation(step)
        ):
            problems.append(
                f"turn {max(turn, 1)}: {short_call(step)} at {where(step, i)} does not serve the goal"
                f" (its tools: {', '.join(sorted(allowed)) or 'none'})"
            )
            involved.update(indices(step))
            first = i if first is None else first
    if goal.keywords and not trajectory.escalated:
        last = _last_reply(steps)
        answer = trajectory.final_answer or ""
        if not any(k.lower() in answer.lower() for k in goal.keywords):
            where_ = where(last[1], last[0]) if last else "the end"
            problems.insert(
                0,
                f"the final answer at {where_} is off-goal: it mentions none of "
                f"{', '.join(map(repr, goal.keywords))}: {excerpt(answer) or '(no answer)'!r}",
            )
            if last:
                involved.update(indices(last[1]))
                first = last[0] if first is None else first
            category = FailureCategory.GOAL_MISALIGNMENT
    if not problems:
        return Verdict(
            check=NAME, status=VerdictStatus.PASSED, reason="every call and the answer serve the goal"
        )
    what = f" ({goal.description})" if goal.description else ""
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    return Verdict(
        check=NAME,
        status=VerdictStatus.FAILED,
        reason=f"goal{what}: " + "; ".join(problems[:_SHOWN]) + more,
        failure_category=category,
        step_index=first,
        message_indices=sorted(involved),
    )
