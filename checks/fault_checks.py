"""The fault matrix's rule for a tool call that an injected fault broke, expressed through the
registry's checks so that one definition of "handled" remains.

A broken call is handled when the agent recovered (the same tool succeeded later in the turn),
handed over to a human afterwards, or told the customer in that turn that it failed (for a 5xx or
a timeout: as a failure, not as an empty result); and it did not go on as if the call had worked
(used its result, or acted on the identifier it failed to look up, even in a later turn). Those
rules are `silent_error` (checks/silent_error.py, `unhandled_failures`) and `tool_call_failure`
(checks/tool_failure.py, `mishandled_failed_calls`); FaultHandled applies them to the calls an
injected fault broke, and only to those.

Why a check of its own remains at all: a faulted case must be judged on its fault even when the
case names a subset of the trace checks (`expectations.checks`) that leaves silent_error out, and
the matrix reports a failure of the fault under the fault's name (`fault_handled`), apart from the
failures of calls the case breaks by itself (A1005's refund provider is down in every replay). By
construction, fault_handled fails only when silent_error or tool_call_failure fails on the same
trajectory at a faulted step (tests/test_fault_matrix.py checks it over the bundled matrix).
"""

from dataclasses import dataclass

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.checks.silent_error import unhandled_failures
from trailcheck.checks.tool_failure import mishandled_failed_calls
from trailcheck.models import FailureCategory, ToolCall, Verdict


@dataclass
class FaultHandled:
    """Every call broken by an injected fault is recovered from, escalated, or admitted, and not relied on."""

    name: str = "fault_handled"
    failure_category: str = "silent_error"

    def evaluate(self, ctx: CheckContext) -> Verdict:
        steps = ctx.trajectory.steps
        faulted = {
            i: s for i, s in enumerate(steps) if isinstance(s, ToolCall) and s.fault is not None and s.failed
        }
        if not faulted:
            return passed(self.name)
        unhandled, _ = unhandled_failures(ctx.trajectory)
        found = [(i, p, FailureCategory.SILENT_ERROR) for i, p, _ in unhandled if i in faulted]
        found += [
            (i, p, FailureCategory.TOOL_CALL_FAILURE) for i, p in mishandled_failed_calls(ctx.trajectory)
        ]
        for i, problem, category in found:
            if i in faulted:
                fault = faulted[i].fault
                kind = fault.kind.value if fault is not None else "unknown"
                return failed(self.name, f"under the {kind} fault: {problem}", category, i)
        return passed(self.name)
