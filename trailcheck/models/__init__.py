"""The domain models, one module each; import them from here."""

from trailcheck.models.case import Case, Turn
from trailcheck.models.contract import (
    ContractBreak,
    ContractFinding,
    ContractRunResult,
    ContractSuite,
    ExpectationOutcome,
    ExpectationSpec,
    RecordedCalls,
    ToolContractResult,
    ToolResponse,
)
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
from trailcheck.models.inventory import (
    AuthRef,
    AuthType,
    Endpoint,
    HttpMethod,
    RateLimit,
    ToolInventory,
    ToolSpec,
)
from trailcheck.models.run import (
    CaseResult,
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
    "AuthRef",
    "AuthType",
    "Budgets",
    "Case",
    "CaseDefaults",
    "CaseResult",
    "CaseStatus",
    "CaseSummary",
    "Comparison",
    "ContractBreak",
    "ContractFinding",
    "ContractRunResult",
    "ContractSuite",
    "CustomCheckSpec",
    "Divergence",
    "Endpoint",
    "ExpectationOutcome",
    "ExpectationSpec",
    "Expectations",
    "FailureCategory",
    "FinalAnswerExpectation",
    "HttpMethod",
    "MatchMode",
    "RateLimit",
    "RecordedCalls",
    "Regression",
    "RunResult",
    "Step",
    "Suite",
    "TokenUsage",
    "ToolCall",
    "ToolCallSpec",
    "ToolCallsExpectation",
    "ToolContractResult",
    "ToolInventory",
    "ToolResponse",
    "ToolSpec",
    "Trace",
    "Trajectory",
    "TrajectoryStatus",
    "Turn",
    "UserMessage",
    "Verdict",
    "VerdictStatus",
]
