"""The results-database tables: SQLModel table classes and nothing else.

Columns that reports filter and sort on (suite, versions, status, counts, cost, latency) are real
columns; the whole `RunResult` and each `Trajectory` are also kept as JSON, so a read returns
exactly what was written. Every row carries the `schema_version` of the model it was written from,
so a later trailcheck can migrate old rows or refuse rows it does not understand.

Reading and writing them is `trailcheck.db.repository`'s job; the pydantic models that cross module
boundaries live in `trailcheck.models`.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

# 64-bit ids on PostgreSQL (a team's database collects millions of trials); on SQLite only
# INTEGER PRIMARY KEY is the auto-incrementing rowid, and it is 64-bit already.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_AWARE = DateTime(timezone=True)


class RunRow(SQLModel, table=True):
    """One regression run. `status` is a `RunStatus` value; `summary` is the `RunResult` dumped."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_suite_started_at", "suite", "started_at"),)

    run_id: str = Field(primary_key=True)
    schema_version: int
    suite: str
    suite_version: str
    agent_version: str
    baseline_version: str | None = None
    trials: int
    status: str
    started_at: datetime = Field(sa_type=_AWARE)
    finished_at: datetime | None = Field(default=None, sa_type=_AWARE)
    flow_run_id: str | None = None
    pass_at_1: float = 0.0
    pass_hat_k: dict[str, float] = Field(default_factory=dict, sa_type=JSON)
    passed: int = 0
    failed: int = 0
    errored: int = 0
    summary: dict[str, Any] = Field(sa_type=JSON)


class CaseResultRow(SQLModel, table=True):
    """One trial of one case in a run. At most one row per (run, case, trial): a rewrite replaces it.

    The unique constraint's index starts with run_id, so it also serves lookups by run.
    """

    __tablename__ = "case_results"
    __table_args__ = (UniqueConstraint("run_id", "case_id", "trial", name="uq_case_results_run_case_trial"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str = Field(foreign_key="runs.run_id", ondelete="CASCADE")
    case_id: str
    trial: int
    task_type: str
    status: str
    failure_category: str | None = None
    reason: str = Field(default="", sa_type=Text)
    cost_usd: float | None = None
    tokens: int = 0
    latency_s: float = 0.0
    # Set by the database on every write (a rewrite too): the database's clock, and one value less
    # to send per row.
    created_at: datetime | None = Field(
        default=None, sa_type=_AWARE, nullable=False, sa_column_kwargs={"server_default": func.now()}
    )


class TrajectoryRow(SQLModel, table=True):
    """The trajectory of one case result, as JSON (one per case result)."""

    __tablename__ = "trajectories"

    case_result_id: int = Field(
        primary_key=True, foreign_key="case_results.id", ondelete="CASCADE", sa_type=_ID
    )
    schema_version: int
    data: dict[str, Any] = Field(sa_type=JSON)


class VerdictRow(SQLModel, table=True):
    """One check's verdict on one case result; `position` keeps the verdicts in their original order."""

    __tablename__ = "verdicts"

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    case_result_id: int = Field(foreign_key="case_results.id", ondelete="CASCADE", index=True, sa_type=_ID)
    position: int
    check: str
    status: str
    score: float | None = None
    reason: str = Field(default="", sa_type=Text)
    failure_category: str | None = None
    step_index: int | None = None


class ContractRunRow(SQLModel, table=True):
    """One run of the `contracts` flow; `summary` is the `ContractRunResult` dumped."""

    __tablename__ = "contract_runs"
    __table_args__ = (Index("ix_contract_runs_started_at", "started_at"),)

    run_id: str = Field(primary_key=True)
    schema_version: int
    inventory: str
    started_at: datetime = Field(sa_type=_AWARE)
    finished_at: datetime | None = Field(default=None, sa_type=_AWARE)
    window_start: datetime | None = Field(default=None, sa_type=_AWARE)
    window_end: datetime | None = Field(default=None, sa_type=_AWARE)
    flow_run_id: str | None = None
    responses: int = 0
    failed_expectations: int = 0
    summary: dict[str, Any] = Field(sa_type=JSON)


class ContractOutcomeRow(SQLModel, table=True):
    """One expectation of one tool's contract in a contracts run: passed or not, unexpected counts, examples.

    A broken expectation is a finding of failure category `integration`; reports filter on `success`.
    """

    __tablename__ = "contract_outcomes"

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    schema_version: int
    run_id: str = Field(foreign_key="contract_runs.run_id", ondelete="CASCADE", index=True)
    position: int
    tool: str = Field(index=True)
    expectation: str
    column_name: str | None = None
    success: bool
    element_count: int | None = Field(default=None, sa_type=BigInteger)
    unexpected_count: int | None = Field(default=None, sa_type=BigInteger)
    failure_category: str | None = None
    reason: str = Field(default="", sa_type=Text)
    examples: list[Any] = Field(default_factory=list, sa_type=JSON)
