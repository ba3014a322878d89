"""Production health per task type and time window, the anomalies found in it, and a live run's result."""

from datetime import datetime

from pydantic import BaseModel, Field

from trailcheck.models.live import ScoredTrace

SCHEMA_VERSION = 1


class HealthWindow(BaseModel):
    """The health of one task type in one time window.

    Traffic counts (traces, completion, escalation, cost, tool calls) cover every trace read;
    quality and failures cover the uniform part of the sample only (rule-included traces would
    bias them), reviewer rejections included.
    """

    task_type: str
    window_start: datetime
    window_s: int = Field(gt=0)
    traces: int = 0
    completed_known: int = 0
    completed: int = 0
    escalated: int = 0
    cost_n: int = 0
    cost_mean: float | None = None
    cost_p95: float | None = None
    tool_calls: int = 0
    tool_errors: int = 0
    sampled: int = 0
    quality_n: int = 0
    quality_mean: float | None = None
    failures: int = 0
    check_failures: dict[str, int] = Field(default_factory=dict, description="Failed verdicts by check.")

    @property
    def completion_rate(self) -> float | None:
        """Completed over traces that record completion."""
        return self.completed / self.completed_known if self.completed_known else None

    @property
    def escalation_rate(self) -> float | None:
        """Escalated over traces."""
        return self.escalated / self.traces if self.traces else None

    @property
    def tool_error_rate(self) -> float | None:
        """Failed tool calls over tool calls."""
        return self.tool_errors / self.tool_calls if self.tool_calls else None

    @property
    def failure_rate(self) -> float | None:
        """Failing sampled traces over the uniform sample."""
        return self.failures / self.sampled if self.sampled else None


class Anomaly(BaseModel):
    """A metric of one task type and window that left its history's normal range."""

    task_type: str
    window_start: datetime
    metric: str
    value: float
    baseline: float
    detail: str = Field(description="The test, its limit or p-value, and the sample size.")


class LiveRunResult(BaseModel):
    """What one `live_sampling` run read, sampled, found and decided: the notifier renders this."""

    schema_version: int = SCHEMA_VERSION
    run_id: str
    source: str
    started_at: datetime
    finished_at: datetime | None = None
    flow_run_id: str | None = None
    flow_run_url: str | None = None
    read: int = 0
    out_of_range: int = Field(default=0, description="Traces skipped for a timestamp outside since/until.")
    bad_records: int = 0
    bad_record_examples: list[str] = Field(default_factory=list)
    sampled: int = 0
    sampled_by_reason: dict[str, int] = Field(default_factory=dict)
    judge: str = Field(default="skipped", description="The judge model used, or why it was skipped.")
    windows: list[HealthWindow] = Field(default_factory=list)
    anomalies: list[Anomaly] = Field(default_factory=list)
    reviewed: int = 0
    rejected: int = 0
    review_pending: int = Field(
        default=0, description="Traces that needed review and got none (max_reviews)."
    )
    failed: int = Field(default=0, description="Sampled traces that failed (all of them, unlike `failing`).")
    failing: list[ScoredTrace] = Field(default_factory=list, description="The failing traces (first ones).")
    nothing_read: str | None = Field(
        default=None, description="Why the run had nothing to read: the source is missing or empty."
    )
    promoted: list[str] = Field(default_factory=list, description="Case ids promoted into a suite.")

    @property
    def ok(self) -> bool:
        """No anomaly and no rejected output."""
        return not self.anomalies and not self.rejected

    @property
    def failure_rate(self) -> float | None:
        """Failing sampled traces over sampled traces (None when nothing was sampled)."""
        return self.failed / self.sampled if self.sampled else None
