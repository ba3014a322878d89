"""The results-database tables of live sampling: runs, health windows, scored samples, anomalies, reviews.

Health windows are the time series (one row per task type and window, rewritten when a window
is read again); the others are written once per live run.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

_ID = BigInteger().with_variant(Integer(), "sqlite")
_AWARE = DateTime(timezone=True)


class LiveRunRow(SQLModel, table=True):
    """One live sampling run; `summary` is the `LiveRunResult` without its windows and samples."""

    __tablename__ = "live_runs"

    run_id: str = Field(primary_key=True)
    schema_version: int
    source: str
    started_at: datetime = Field(sa_type=_AWARE)
    finished_at: datetime | None = Field(default=None, sa_type=_AWARE)
    flow_run_id: str | None = None
    read: int = 0
    sampled: int = 0
    bad_records: int = 0
    anomalies: int = 0
    summary: dict[str, Any] = Field(sa_type=JSON)


class HealthWindowRow(SQLModel, table=True):
    """Health of one task type in one window: the time series anomalies are judged against."""

    __tablename__ = "health_windows"
    __table_args__ = (
        UniqueConstraint("task_type", "window_start", "window_s", name="uq_health_windows_type_start"),
        Index("ix_health_windows_start", "window_start"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str
    task_type: str
    window_start: datetime = Field(sa_type=_AWARE)
    window_s: int
    traces: int
    completion_rate: float | None = None
    escalation_rate: float | None = None
    tool_error_rate: float | None = None
    cost_mean: float | None = None
    cost_p95: float | None = None
    quality_mean: float | None = None
    failure_rate: float | None = None
    data: dict[str, Any] = Field(sa_type=JSON)


class LiveScoreRow(SQLModel, table=True):
    """One scored sampled trace; failing and reviewed ones keep the trace, for `trailcheck promote`."""

    __tablename__ = "live_scores"
    __table_args__ = (UniqueConstraint("run_id", "trace_id", name="uq_live_scores_run_trace"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str = Field(foreign_key="live_runs.run_id", ondelete="CASCADE")
    trace_id: str = Field(index=True)
    task_type: str
    timestamp: datetime | None = Field(default=None, sa_type=_AWARE)
    quality: float | None = None
    failed: bool
    failure_category: str | None = None
    review: str | None = None
    scored: dict[str, Any] = Field(sa_type=JSON)
    trace: dict[str, Any] | None = Field(default=None, sa_type=JSON)


class AnomalyRow(SQLModel, table=True):
    """An anomaly found by a live run."""

    __tablename__ = "anomalies"

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str = Field(foreign_key="live_runs.run_id", ondelete="CASCADE", index=True)
    task_type: str
    window_start: datetime = Field(sa_type=_AWARE)
    metric: str
    value: float
    baseline: float
    detail: str = Field(sa_type=Text)


class ReviewRow(SQLModel, table=True):
    """A review decision on a sampled trace (a person's, or the default on timeout)."""

    __tablename__ = "review_decisions"
    __table_args__ = (UniqueConstraint("run_id", "trace_id", name="uq_review_decisions_run_trace"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str = Field(foreign_key="live_runs.run_id", ondelete="CASCADE")
    trace_id: str
    decision: str
    decided_by: str
    expected: str = Field(default="", sa_type=Text)
    note: str = Field(default="", sa_type=Text)
    decided_at: datetime | None = Field(default=None, sa_type=_AWARE)
