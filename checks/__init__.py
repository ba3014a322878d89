"""Everything that judges a trajectory: expectations, matchers, budgets and custom checks."""

from trailcheck.checks.anomaly import AnomalyPolicy, detect_anomalies
from trailcheck.checks.answer_checks import Escalation, FinalAnswer
from trailcheck.checks.base import Check, CheckContext, run_check, to_verdict
from trailcheck.checks.budget_checks import Budget
from trailcheck.checks.custom import CustomCheckError, load_custom_check
from trailcheck.checks.judge import Judge, JudgeConfig
from trailcheck.checks.live_scoring import ScoringPolicy, score_sample
from trailcheck.checks.matching import MatchOutcome, match_arg, match_call, match_tool_calls
from trailcheck.checks.plan import checks_for_case
from trailcheck.checks.scoring import score_trajectory
from trailcheck.checks.tool_checks import Completed, MaxSteps, MaxToolCalls, NeverCall, ToolCallsMatch

__all__ = [
    "AnomalyPolicy",
    "Budget",
    "Check",
    "CheckContext",
    "Completed",
    "CustomCheckError",
    "Escalation",
    "FinalAnswer",
    "Judge",
    "JudgeConfig",
    "MatchOutcome",
    "MaxSteps",
    "MaxToolCalls",
    "NeverCall",
    "ScoringPolicy",
    "ToolCallsMatch",
    "checks_for_case",
    "detect_anomalies",
    "load_custom_check",
    "match_arg",
    "match_call",
    "match_tool_calls",
    "run_check",
    "score_sample",
    "score_trajectory",
    "to_verdict",
]
