"""Everything that judges a trajectory: expectations, matchers, budgets and custom checks."""

from checks.anomaly import AnomalyPolicy, detect_anomalies
from checks.answer_checks import Escalation, FinalAnswer
from checks.base import Check, CheckContext, run_check, to_verdict
from checks.budget_checks import Budget
from checks.custom import CustomCheckError, load_custom_check
from checks.judge import Judge, JudgeConfig
from checks.live_scoring import ScoringPolicy, score_sample
from checks.matching import MatchOutcome, match_arg, match_call, match_tool_calls
from checks.plan import checks_for_case
from checks.scoring import score_trajectory
from checks.tool_checks import MaxSteps, MaxToolCalls, NeverCall, ToolCallsMatch

__all__ = [
    "AnomalyPolicy",
    "Budget",
    "Check",
    "CheckContext",
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
