"""The failure categories shared by checks, reports and promoted cases."""

from enum import StrEnum


class FailureCategory(StrEnum):
    """Why a case failed, in the vocabulary used across trailcheck (see DESIGN.md)."""

    REASONING_DRIFT = "reasoning_drift"
    TOOL_CALL_FAILURE = "tool_call_failure"
    SILENT_ERROR = "silent_error"
    CONTEXT_SATURATION = "context_saturation"
    GOAL_MISALIGNMENT = "goal_misalignment"
    INTEGRATION = "integration"
    QUALITY_DEGRADATION = "quality_degradation"
    SECURITY = "security"
    COST = "cost"
