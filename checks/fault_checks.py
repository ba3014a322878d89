"""The fault matrix's rule for a tool call that an injected fault broke.

A broken call is handled when the agent recovered (a later call of the same tool succeeded),
handed over to a human, or told the customer that something failed. Anything else hides the
failure behind an answer. The registry's silent_error and tool_call_failure checks judge the
same ground in more depth; this one only needs the fault records the gateway leaves on calls.
"""

import re
from dataclasses import dataclass

from checks.base import CheckContext

ADMITS_FAILURE = (
    r"\b(could not|couldn't|cannot|can't|unable|failed|not able|try again|problem|unavailable|sorry|error)\b"
)


@dataclass
class FaultHandled:
    """Every call broken by an injected fault is recovered from, escalated, or admitted."""

    admits: str = ADMITS_FAILURE
    name: str = "fault_handled"
    failure_category: str = "silent_error"

    def evaluate(self, ctx: CheckContext) -> str:
        calls = ctx.trajectory.tool_calls
        answer = ctx.trajectory.final_answer or ""
        for index, call in enumerate(calls):
            if call.fault is None or not call.failed:
                continue
            if any(later.name == call.name and not later.failed for later in calls[index + 1 :]):
                continue
            if ctx.trajectory.escalated or re.search(self.admits, answer, re.IGNORECASE):
                return ""
            return (
                f"{call.name} failed under the {call.fault.kind.value} fault ({call.error}) and the agent "
                f"neither retried it successfully, nor escalated, nor said so: {answer[:160]!r}"
            )
        return ""
