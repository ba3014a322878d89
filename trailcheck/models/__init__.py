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
from trailcheck.models.environment import Environment, Probe, ResetHook
from trailcheck.models.expectations import (
    ArgMatcher,
    Budgets,
    CallCount,
    Constraint,
    CustomCheckSpec,
    Expectations,
    FinalAnswerExpectation,
    Goal,
    MatchMode,
    Normalize,
    ReplyScope,
    StateAssertion,
    ToolCallsExpectation,
    ToolCallSpec,
    ValueType,
)
from trailcheck.models.failure import FailureCategory
from trailcheck.models.fault import FaultKind, FaultRecord, FaultSpec
from trailcheck.models.fault_matrix import FaultCell, FaultMatrix
from trailcheck.models.fixture import CaseOrigin, ToolFixture
from trailcheck.models.health import Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ReviewDecision, ScoredTrace
from trailcheck.models.notification import Block, ChatMessage, ChatReply, NotificationResult
from trailcheck.models.retention import RetentionPoint, RetentionReport, SessionPlan
from trailcheck.models.run import (
    CaseResult,
    CaseShift,
    CaseStatus,
    CaseSummary,
    Comparison,
    Divergence,
    FailureOrigin,
    Regression,
    RunResult,
)
from trailcheck.models.sampling import AlwaysInclude, SampleReason, SamplingPolicy
from trailcheck.models.spool import SpoolReport
from trailcheck.models.suite import CaseDefaults, Suite
from trailcheck.models.tool_route import ToolRoute
from trailcheck.models.trace import Trace
from trailcheck.models.trace_score import TraceScore
from trailcheck.models.trajectory import (
    AssistantMessage,
    EndReason,
    ErrorKind,
    Step,
    TokenUsage,
    ToolCall,
    Trajectory,
    TrajectoryStatus,
    UserMessage,
)
from trailcheck.models.variant import Variant
from trailcheck.models.verdict import Verdict, VerdictStatus

__all__ = [
    "AlwaysInclude",
    "Anomaly",
    "ArgMatcher",
    "AssistantMessage",
    "Block",
    "Budgets",
    "CallCount",
    "Case",
    "CaseDefaults",
    "CaseOrigin",
    "CaseResult",
    "CaseShift",
    "CaseStatus",
    "CaseSummary",
    "ChatMessage",
    "ChatReply",
    "Comparison",
    "Constraint",
    "CustomCheckSpec",
    "Divergence",
    "EndReason",
    "Environment",
    "ErrorKind",
    "Expectations",
    "FailureCategory",
    "FailureOrigin",
    "FaultCell",
    "FaultKind",
    "FaultMatrix",
    "FaultRecord",
    "FaultSpec",
    "FinalAnswerExpectation",
    "Goal",
    "HealthWindow",
    "LiveRunResult",
    "MatchMode",
    "Normalize",
    "NotificationResult",
    "Probe",
    "Regression",
    "ReplyScope",
    "ResetHook",
    "RetentionPoint",
    "RetentionReport",
    "Review",
    "ReviewDecision",
    "RunResult",
    "SampleReason",
    "SamplingPolicy",
    "ScoredTrace",
    "SessionPlan",
    "SpoolReport",
    "StateAssertion",
    "Step",
    "Suite",
    "TokenUsage",
    "ToolCall",
    "ToolCallSpec",
    "ToolCallsExpectation",
    "ToolFixture",
    "ToolRoute",
    "Trace",
    "TraceScore",
    "Trajectory",
    "TrajectoryStatus",
    "Turn",
    "UserMessage",
    "ValueType",
    "Variant",
    "Verdict",
    "VerdictStatus",
]

# Data contracts (kept apart from the list above to ease merges; the inventory: trailcheck.models.inventory).
__all__ += [
    "ContractBreak",
    "ContractFinding",
    "ContractRunResult",
    "ContractSuite",
    "ExpectationOutcome",
    "ExpectationSpec",
    "RecordedCalls",
    "ToolContractResult",
    "ToolResponse",
]
