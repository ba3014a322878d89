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
from trailcheck.models.fixture import CaseOrigin, ToolFixture
from trailcheck.models.run import (
    CaseResult,
    CaseStatus,
    CaseSummary,
    Comparison,
    Divergence,
    FailureOrigin,
    Regression,
    RunResult,
)
from trailcheck.models.spool import SpoolReport
from trailcheck.models.suite import CaseDefaults, Suite
from trailcheck.models.trace import Trace
from trailcheck.models.trajectory import (
    AssistantMessage,
    ErrorKind,
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
    "Budgets",
    "Case",
    "CaseDefaults",
    "CaseOrigin",
    "CaseResult",
    "CaseStatus",
    "CaseSummary",
    "Comparison",
    "CustomCheckSpec",
    "Divergence",
    "ErrorKind",
    "Expectations",
    "FailureCategory",
    "FailureOrigin",
    "FinalAnswerExpectation",
    "MatchMode",
    "Regression",
    "RunResult",
    "SpoolReport",
    "Step",
    "Suite",
    "TokenUsage",
    "ToolCall",
    "ToolCallSpec",
    "ToolCallsExpectation",
    "ToolFixture",
    "Trace",
    "Trajectory",
    "TrajectoryStatus",
    "Turn",
    "UserMessage",
    "Verdict",
    "VerdictStatus",
]
