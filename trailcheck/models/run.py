"""The result of a regression run: per trial, per case, per suite, and against a baseline."""

from datetime import datetime
from enum import StrEnum
from statistics import fmean

from pydantic import BaseModel, Field

from trailcheck.models.failure import FailureCategory
from trailcheck.models.notification import NotificationResult
from trailcheck.models.spool import SpoolReport
from trailcheck.models.trajectory import ErrorKind, Trajectory, TrajectoryStatus
from trailcheck.models.verdict import Verdict, VerdictStatus

RESULT_SCHEMA_VERSION = 1


class CaseStatus(StrEnum):
    """A trial passed (every check that ran passed), failed, or errored (the agent did not answer)."""

    PASSED = "passed"
    FAILED = "failed"
    ERRORED = "errored"


class FailureOrigin(StrEnum):
    """Whose failure a trial that did not pass is.

    infrastructure: the test could not be carried out (the agent could not be reached, a check
    crashed); agent: the agent answered wrongly, with an error, too slowly or not readably.
    """

    AGENT = "agent"
    INFRASTRUCTURE = "infrastructure"


class CaseResult(BaseModel):
    """One trial of one case: its trajectory and the verdicts on it."""

    case_id: str
    trial: int
    task_type: str = "general"
    trajectory: Trajectory
    verdicts: list[Verdict] = Field(default_factory=list)

    @property
    def status(self) -> CaseStatus:
        """Errored when the agent did not answer; failed when any check failed or crashed."""
        if self.trajectory.status is not TrajectoryStatus.OK:
            return CaseStatus.ERRORED
        if any(v.counts_as_failure for v in self.verdicts):
            return CaseStatus.FAILED
        return CaseStatus.PASSED

    @property
    def failure_origin(self) -> FailureOrigin | None:
        """Whose failure this trial is (None when it passed)."""
        status = self.status
        if status is CaseStatus.PASSED:
            return None
        if status is CaseStatus.ERRORED:
            unreachable = self.trajectory.error_kind is ErrorKind.TRANSPORT
            return FailureOrigin.INFRASTRUCTURE if unreachable else FailureOrigin.AGENT
        crashed = any(v.status is VerdictStatus.ERRORED for v in self.verdicts)
        failed = any(v.status is VerdictStatus.FAILED for v in self.verdicts)
        return FailureOrigin.INFRASTRUCTURE if crashed and not failed else FailureOrigin.AGENT

    @property
    def first_failure(self) -> Verdict | None:
        """The first failing verdict, if any."""
        return next((v for v in self.verdicts if v.counts_as_failure), None)

    @property
    def reason(self) -> str:
        """Why the trial did not pass: every failing check with its reason ('' when it passed)."""
        if self.trajectory.status is not TrajectoryStatus.OK:
            return f"agent {self.trajectory.status.value}: {self.trajectory.error or 'no detail'}"
        return "; ".join(f"{v.check}: {v.reason}" for v in self.verdicts if v.counts_as_failure)


class CaseSummary(BaseModel):
    """A case over all its trials."""

    case_id: str
    task_type: str = "general"
    trials: int
    passes: int
    errored: int = 0
    agent_failures: int = Field(default=0, description="Trials that did not pass through the agent's fault.")
    infrastructure_failures: int = Field(
        default=0, description="Trials that could not be carried out: agent unreachable, a check crashed."
    )
    pass_at_1: float
    failure_category: FailureCategory | None = None
    reason: str = ""
    cost_usd: float | None = None
    latency_s: float = 0.0
    injections_followed: int = Field(default=0, description="Trials that acted on injected instructions.")
    injections_seen: int = Field(
        default=0, description="Trials where untrusted content carried instructions the agent did not act on."
    )
    injection_reason: str = Field(default="", description="What was injected, where, and what the agent did.")

    @property
    def status(self) -> CaseStatus:
        """Passed when every trial passed; errored when any trial errored and none failed a check."""
        if self.passes == self.trials:
            return CaseStatus.PASSED
        if self.errored and self.errored + self.passes == self.trials:
            return CaseStatus.ERRORED
        return CaseStatus.FAILED


class Divergence(BaseModel):
    """The first step where a trajectory parts from the baseline's."""

    step_index: int
    baseline_step: str | None
    current_step: str | None


class CaseShift(BaseModel):
    """One case's pass counts in the baseline and now, with the exact test on them.

    p_value: one-sided Fisher exact test that the case passes less often now than in the
    baseline; adjusted_p_value: the same after Holm's correction over every compared case.
    """

    case_id: str
    baseline_passes: int
    baseline_trials: int
    passes: int
    trials: int
    p_value: float = 1.0
    adjusted_p_value: float = 1.0


class Regression(BaseModel):
    """A case that got worse against the baseline.

    Either the drop in its pass rate is significant (`significant`, see `Comparison.alpha`),
    or it passed every baseline trial and fails every trial now (a consistent break: with few
    trials no test has the power to call it, and a case that never passes blocks anyway).
    """

    case_id: str
    baseline_pass_rate: float
    current_pass_rate: float
    reason: str
    failure_category: FailureCategory | None = None
    divergence: Divergence | None = None
    shift: CaseShift | None = None
    significant: bool = False


class Comparison(BaseModel):
    """The run against its baseline run: per-case exact tests combined at a family-wise error rate."""

    baseline_run_id: str
    baseline_version: str
    regressions: list[Regression] = Field(default_factory=list)
    fixed: list[str] = Field(default_factory=list)
    missing_in_baseline: list[str] = Field(default_factory=list)
    flaky: list[CaseShift] = Field(
        default_factory=list,
        description="Cases with mixed trials now whose drop is not significant: noise, not regressions.",
    )
    alpha: float = Field(default=0.05, description="Family-wise false-alarm rate of the regression calls.")
    method: str = "one-sided Fisher exact test per case, Holm-Bonferroni over cases"
    baseline_pass_at_1: float | None = None
    baseline_pass_hat_k: dict[int, float] = Field(default_factory=dict)
    baseline_cost_per_case_usd: float | None = None
    baseline_latency_per_case_s: float | None = None
    error: str | None = Field(
        default=None, description="Why the comparison could not be made (e.g. the database was down)."
    )


class RunResult(BaseModel):
    """A whole regression run: what ran, the reliability numbers, and the comparison."""

    schema_version: int = RESULT_SCHEMA_VERSION
    run_id: str
    suite: str
    suite_version: str
    agent_version: str
    baseline_version: str | None = None
    trials: int
    started_at: datetime
    finished_at: datetime | None = None
    flow_run_id: str | None = None
    cases: list[CaseSummary] = Field(default_factory=list)
    pass_at_1: float = 0.0
    pass_hat_k: dict[int, float] = Field(default_factory=dict)
    comparison: Comparison | None = None
    shard_workers: list[str] = Field(
        default_factory=list, description="host:pid of each process that ran shards"
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="What the run was about: model, prompt_version, trigger."
    )
    notifications: list[NotificationResult] = Field(
        default_factory=list,
        description="Where the run was announced (Slack); a failed notification never changes the verdict.",
    )
    spool: SpoolReport | None = Field(
        default=None, description="Set when the results database failed and results were spooled locally."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="What the person must know about the run, e.g. tool calls the gateway could attribute "
        "to no trajectory.",
    )
    agent_output: str | None = Field(
        default=None,
        description="The last of what the agent's process printed (agents trailcheck started), redacted.",
    )

    def count(self, status: CaseStatus) -> int:
        """How many cases ended with this status."""
        return sum(1 for c in self.cases if c.status is status)

    def failures_by_origin(self) -> dict[FailureOrigin, int]:
        """Trials that did not pass, by whose failure they are."""
        return {
            FailureOrigin.AGENT: sum(c.agent_failures for c in self.cases),
            FailureOrigin.INFRASTRUCTURE: sum(c.infrastructure_failures for c in self.cases),
        }

    @property
    def cost_per_case_usd(self) -> float | None:
        """Mean cost of a case (over the cases that report a cost), None when none does."""
        costs = [c.cost_usd for c in self.cases if c.cost_usd is not None]
        return fmean(costs) if costs else None

    @property
    def latency_per_case_s(self) -> float | None:
        """Mean latency of a case's trial, None for an empty run."""
        return fmean(c.latency_s for c in self.cases) if self.cases else None

    def blocking_cases(self) -> list[CaseSummary]:
        """The cases that fail the gate: not passing, unless flaky without a significant drop.

        Without a baseline every case must pass every trial. With one, a case whose trials are
        mixed and whose drop against the baseline is not significant is noise and is tolerated.
        """
        tolerated = {f.case_id for f in self.comparison.flaky} if self.comparison else set()
        return [c for c in self.cases if c.status is not CaseStatus.PASSED and c.case_id not in tolerated]

    @property
    def ok(self) -> bool:
        """True when nothing regressed and no case blocks (see `blocking_cases`): the CI gate."""
        # A comparison that could not be made (the database was down) never lets the gate pass.
        no_regressions = self.comparison is None or not (self.comparison.regressions or self.comparison.error)
        return no_regressions and not self.blocking_cases()
