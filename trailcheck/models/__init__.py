"""The domain models, one module each; import them from here."""

from trailcheck.models.case import Case, Turn
from trailcheck.models.expectations import (
    ArgMatcher,
    Budgets,
    CustomCheckSpec,
    Expectations,
    FinalAnswerExpectation,
    MatchMode,
    ToolCallsExpectation,
    ToolCallSpec,
)
from trailcheck.models.failure import FailureCategory
from trailcheck.models.notification import Block, ChatMessage, ChatReply, NotificationResult
from trailcheck.models.run import (
    CaseResult,
    CaseShift,
    CaseStatus,
    CaseSummary,
    Comparison,
    Divergence,
    Regression,
    RunResult,
)
from trailcheck.models.suite import CaseDefaults, Suite
from trailcheck.models.trace import Trace
from trailcheck.models.trajectory import (
    AssistantMessage,
    Step,
    TokenUsage,
    ToolCall,
    Trajectory,
    TrajectoryStatus,
    UserMessage,
)
from trailcheck.models.verdict import Verdict, VerdictStatus

__all__ = [
    "ArgMatcher",
    "AssistantMessage",
    "Block",
    "Budgets",
    "Case",
    "CaseDefaults",
    "CaseResult",
    "CaseShift",
    "CaseStatus",
    "CaseSummary",
    "ChatMessage",
    "ChatReply",
    "Comparison",
    "CustomCheckSpec",
    "Divergence",
    "Expectations",
    "FailureCategory",
    "FinalAnswerExpectation",
    "MatchMode",
    "NotificationResult",
    "Regression",
    "RunResult",
    "Step",
    "Suite",
    "TokenUsage",
    "ToolCall",
    "ToolCallSpec",
    "ToolCallsExpectation",
    "Trace",
    "Trajectory",
    "TrajectoryStatus",
    "Turn",
    "UserMessage",
    "Verdict",
    "VerdictStatus",
]
