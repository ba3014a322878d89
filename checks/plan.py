"""Turn a case's expectations into the list of checks that judge each of its trials."""

from collections.abc import Mapping

from trailcheck.checks.answer_checks import Escalation, FinalAnswer
from trailcheck.checks.base import Check
from trailcheck.checks.budget_checks import Budget
from trailcheck.checks.custom import load_custom_check
from trailcheck.checks.registry import TRACE_CHECKS, TraceCheck, checks_named
from trailcheck.checks.simulation import SimulatedGoal
from trailcheck.checks.state_checks import StateMatch
from trailcheck.checks.tool_checks import Completed, MaxSteps, MaxToolCalls, NeverCall, ToolCallsMatch
from trailcheck.models import Case


def checks_for_case(case: Case, available: Mapping[str, TraceCheck] = TRACE_CHECKS) -> list[Check]:
    """The built-in checks its expectations ask for, its custom checks, then the trace checks.

    `available`: the trace checks to pick from (`trace_checks(policy)` under a run's inventory).
    """
    exp = case.expectations
    checks: list[Check] = []
    if exp.tool_calls is not None:
        tc = exp.tool_calls
        checks.append(ToolCallsMatch(calls=tc.calls, mode=tc.mode, scope=tc, count=exp.count))
    if exp.never_call:
        checks.append(NeverCall(tools=exp.never_call, count=exp.count))
    if exp.max_tool_calls is not None:
        checks.append(MaxToolCalls(limit=exp.max_tool_calls, count=exp.count))
    if exp.max_steps is not None:
        checks.append(MaxSteps(limit=exp.max_steps))
    if exp.final_answer is not None:
        checks.append(FinalAnswer(expectation=exp.final_answer))
    if exp.completed:
        checks.append(Completed())
    if exp.state:
        checks.append(StateMatch(assertions=exp.state))
    if exp.escalate is not None:
        checks.append(Escalation(required=exp.escalate))
    if exp.budgets is not None:
        checks.append(Budget(budgets=exp.budgets))
    user = case.simulated_user
    if user is not None and user.done_when and user.require_goal:
        checks.append(SimulatedGoal(escalation_counts=user.stop_on_escalation))
    checks.extend(load_custom_check(spec) for spec in exp.custom)
    # The production failure-mode checks (silent_error, security, ...) run on every trial unless the
    # case names a subset (`expectations.checks`) or none (`checks: []`). By default goal_alignment
    # runs only for a case with a goal: elsewhere it would store a "skipped" verdict on every trial.
    trace_checks = checks_named(exp.checks, available)
    if exp.checks is None and exp.goal is None:
        trace_checks = [c for c in trace_checks if c.name != "goal_alignment"]
    checks.extend(trace_checks)
    return checks
