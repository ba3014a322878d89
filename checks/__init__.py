"""Everything that judges a trajectory: expectations, matchers, budgets and custom checks."""

from checks.answer_checks import Escalation, FinalAnswer
from checks.base import Check, CheckContext, run_check, to_verdict
from checks.budget_checks import Budget
from checks.custom import CustomCheckError, load_custom_check
from checks.matching import MatchOutcome, match_arg, match_call, match_tool_calls
from checks.plan import checks_for_case
from checks.scoring import score_trajectory
from checks.tool_checks import MaxSteps, MaxToolCalls, NeverCall, ToolCallsMatch

__all__ = [
    "Budget",
    "Check",
    "CheckContext",
    "CustomCheckError",
    "Escalation",
    "FinalAnswer",
    "MatchOutcome",
    "MaxSteps",
    "MaxToolCalls",
    "NeverCall",
    "ToolCallsMatch",
    "checks_for_case",
    "load_custom_check",
    "match_arg",
    "match_call",
    "match_tool_calls",
    "run_check",
    "score_trajectory",
    "to_verdict",
]
