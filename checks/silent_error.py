"""silent_error: a tool call failed and the agent told the user nothing of it (or claimed success).

For every failed call (an error, an HTTP error status, a timeout, an error payload) the agent
must, before the user speaks again, do one of: retry the same tool successfully, hand over to a
human (at any later point), or say that it failed. Saying so means the last thing it told the
user in that turn does not claim success without admitting the failure, and at least one of its
messages in the turn acknowledges it (for a 5xx or a timeout: as a failure, not as an empty
result; see checks/_failures.py).
"""

from trailcheck.checks._failures import acknowledges, claims_success, is_transient
from trailcheck.checks._steps import (
    escalated_after,
    excerpt,
    indices,
    replies_between,
    short_call,
    turn_end,
    where,
)
from trailcheck.models import Case, FailureCategory, ToolCall, Trajectory, Verdict, VerdictStatus

NAME = "silent_error"
_SHOWN = 3


def _recovered(steps: list, start: int, end: int, name: str) -> bool:
    return any(isinstance(s, ToolCall) and s.name == name and not s.failed for s in steps[start + 1 : end])


def unhandled_failures(trajectory: Trajectory) -> tuple[list[tuple[int, str, list[int]]], int]:
    """(step, problem, message indices) of each failed call neither recovered, escalated nor
    acknowledged, and how many calls failed. FaultHandled (checks/fault_checks.py) reads the
    problems of the calls an injected fault broke, so both judge a failure by this one rule."""
    steps = trajectory.steps
    problems: list[tuple[int, str, list[int]]] = []
    failures = 0
    for i, call in enumerate(steps):
        if not (isinstance(call, ToolCall) and call.failed):
            continue
        failures += 1
        end = turn_end(steps, i)
        if _recovered(steps, i, end, call.name) or escalated_after(trajectory, i):
            continue
        replies = replies_between(steps, i, end)
        failed_as = f"{short_call(call)} failed ({excerpt(call.error or f'HTTP {call.status_code}', 80)})"
        if not replies:
            problem = f"{failed_as} at {where(call, i)} and the agent said nothing to the user after it"
        elif claims_success(replies[-1].content) and not acknowledges(replies[-1].content, call):
            claim = excerpt(replies[-1].content)
            problem = f"{failed_as} at {where(call, i)}, yet the reply claims success: {claim!r}"
        elif not any(acknowledges(r.content, call) for r in replies):
            how = "as a failure (it reads like an empty result)" if is_transient(call) else ""
            problem = (
                f"{failed_as} at {where(call, i)} and the reply does not acknowledge it {how}: "
                f"{excerpt(replies[-1].content)!r}"
            ).replace("  ", " ")
        else:
            continue
        problems.append((i, problem, indices(call, *(replies[-1:]))))
    return problems, failures


def silent_error(trajectory: Trajectory, case: Case | None) -> Verdict:
    """Fail when a failed tool call is neither recovered, escalated nor acknowledged to the user."""
    problems, failures = unhandled_failures(trajectory)
    if not problems:
        detail = (
            f"{failures} failed tool call(s), each retried, escalated or acknowledged" if failures else ""
        )
        return Verdict(check=NAME, status=VerdictStatus.PASSED, reason=detail or "no failed tool calls")
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    return Verdict(
        check=NAME,
        status=VerdictStatus.FAILED,
        reason="; ".join(p for _, p, _ in problems[:_SHOWN])
        + more
        + ". Fix: tell the user the call failed, then retry it or hand over to a human.",
        failure_category=FailureCategory.SILENT_ERROR,
        step_index=problems[0][0],
        message_indices=sorted({m for _, _, ms in problems for m in ms}),
    )
