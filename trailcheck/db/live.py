"""Read and write live sampling results: health windows (the time series), scores, anomalies, reviews.

Like `repository`, callers pass the engine and domain models, and a failing database raises
`ResultsDatabaseError` naming it (masked) and the action. Health windows are upserted on
(task type, window start, window length): reading the same window again replaces it.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, select

from trailcheck.db import _bulk
from trailcheck.db._core import ANOMALIES, HEALTH_WINDOWS, LIVE_RUNS, LIVE_SCORES, REVIEWS
from trailcheck.db.transaction import transaction
from trailcheck.models import Trace
from trailcheck.models.health import SCHEMA_VERSION, Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ScoredTrace

_WINDOW_KEY = ("task_type", "window_start", "window_s")


def save_live_run(engine: Engine, result: LiveRunResult) -> None:
    """Insert or update the run's row (its summary without windows and failing traces)."""
    summary = result.model_dump_json(exclude={"windows", "failing"})
    row = {
        "run_id": result.run_id,
        "schema_version": result.schema_version,
        "source": result.source,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "flow_run_id": result.flow_run_id,
        "read": result.read,
        "sampled": result.sampled,
        "bad_records": result.bad_records,
        "anomalies": len(result.anomalies),
        "summary": summary,
    }
    with transaction(engine, f"saving live run {result.run_id!r}") as conn:
        _bulk.upsert(conn, LIVE_RUNS, [row], ["run_id"])


def record_windows(engine: Engine, run_id: str, windows: Sequence[HealthWindow]) -> None:
    """Upsert the windows of a run into the time series."""
    rows = [
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "task_type": w.task_type,
            "window_start": w.window_start,
            "window_s": w.window_s,
            "traces": w.traces,
            "completion_rate": w.completion_rate,
            "escalation_rate": w.escalation_rate,
            "tool_error_rate": w.tool_error_rate,
            "cost_mean": w.cost_mean,
            "cost_p95": w.cost_p95,
            "quality_mean": w.quality_mean,
            "failure_rate": w.failure_rate,
            "data": w.model_dump_json(),
        }
        for w in windows
    ]
    with transaction(engine, f"writing health windows of live run {run_id!r}") as conn:
        _bulk.upsert(conn, HEALTH_WINDOWS, rows, _WINDOW_KEY)


def load_windows(
    engine: Engine,
    window_s: int,
    since: datetime | None = None,
    before: datetime | None = None,
    task_types: Sequence[str] | None = None,
) -> list[HealthWindow]:
    """The stored windows of this length, optionally of some task types and in [since, before), by start."""
    query = select(HEALTH_WINDOWS.c.data).where(HEALTH_WINDOWS.c.window_s == window_s)
    if since is not None:
        query = query.where(HEALTH_WINDOWS.c.window_start >= since)
    if before is not None:
        query = query.where(HEALTH_WINDOWS.c.window_start < before)
    if task_types is not None:
        query = query.where(HEALTH_WINDOWS.c.task_type.in_(list(task_types)))
    query = query.order_by(HEALTH_WINDOWS.c.window_start, HEALTH_WINDOWS.c.task_type)
    with transaction(engine, "reading health windows") as conn:
        return [HealthWindow.model_validate(_json(data)) for (data,) in conn.execute(query)]


def record_scores(
    engine: Engine, run_id: str, scored: Sequence[tuple[ScoredTrace, Trace | str | None]]
) -> None:
    """Store the scored sample (a rewrite replaces it), with the trace (a `Trace` or its JSON) of the
    failing and reviewed ones only (`keeps_trace`): those are the ones worth promoting, and a run
    samples thousands.

    A trace id seen twice in one run (a source that repeats a trace, or two traces that share an id)
    is stored once: the last one read wins, as a rewrite of the run would.
    """
    latest = {s.trace_id: (s, t) for s, t in scored}
    rows = [
        {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "trace_id": s.trace_id,
            "task_type": s.task_type,
            "timestamp": s.timestamp,
            "quality": s.quality,
            "failed": s.counts_as_failure,
            "failure_category": s.failure_category.value if s.failure_category else None,
            "review": s.review.decision.value if s.review else None,
            "scored": s.model_dump_json(),
            "trace": None
            if t is None or not keeps_trace(s)
            else (t if isinstance(t, str) else t.model_dump_json(exclude_none=True)),
        }
        for s, t in latest.values()
    ]
    with transaction(engine, f"writing scores of live run {run_id!r}") as conn:
        conn.execute(delete(LIVE_SCORES).where(LIVE_SCORES.c.run_id == run_id))
        _bulk.insert_rows(conn, LIVE_SCORES, rows)


def keeps_trace(scored: ScoredTrace) -> bool:
    """Whether the trace itself is stored with its scores (failing or reviewed)."""
    return scored.counts_as_failure or scored.review_reason is not None or scored.review is not None


def record_anomalies(engine: Engine, run_id: str, anomalies: Sequence[Anomaly]) -> None:
    """Store the run's anomalies (replacing any stored for it before)."""
    rows = [{"schema_version": SCHEMA_VERSION, "run_id": run_id, **a.model_dump()} for a in anomalies]
    with transaction(engine, f"writing anomalies of live run {run_id!r}") as conn:
        conn.execute(delete(ANOMALIES).where(ANOMALIES.c.run_id == run_id))
        if rows:
            conn.execute(ANOMALIES.insert(), rows)


def record_reviews(engine: Engine, run_id: str, reviews: Sequence[Review]) -> None:
    """Store review decisions; a second decision on the same trace in the same run replaces the first."""
    latest = {r.trace_id: r for r in reviews}  # one decision per trace: the last
    rows = [
        {"schema_version": SCHEMA_VERSION, "run_id": run_id, **r.model_dump(mode="python")}
        for r in latest.values()
    ]
    if not rows:
        return
    with transaction(engine, f"writing reviews of live run {run_id!r}") as conn:
        _bulk.upsert(conn, REVIEWS, rows, ["run_id", "trace_id"])


def load_reviews(engine: Engine, run_id: str) -> list[Review]:
    """The review decisions of a run."""
    query = select(REVIEWS).where(REVIEWS.c.run_id == run_id).order_by(REVIEWS.c.id)
    with transaction(engine, f"reading reviews of live run {run_id!r}") as conn:
        return [Review.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def load_anomalies(engine: Engine, run_id: str) -> list[Anomaly]:
    """The anomalies a run found."""
    query = select(ANOMALIES).where(ANOMALIES.c.run_id == run_id).order_by(ANOMALIES.c.id)
    with transaction(engine, f"reading anomalies of live run {run_id!r}") as conn:
        return [Anomaly.model_validate(dict(row._mapping)) for row in conn.execute(query)]


def find_trace(engine: Engine, trace_id: str) -> tuple[Trace, ScoredTrace] | None:
    """The most recently stored (failing or reviewed) sampled trace with this id and its scores, or None."""
    query = (
        select(LIVE_SCORES.c.trace, LIVE_SCORES.c.scored)
        .where(LIVE_SCORES.c.trace_id == trace_id, LIVE_SCORES.c.trace.is_not(None))
        .order_by(LIVE_SCORES.c.id.desc())
        .limit(1)
    )
    with transaction(engine, f"reading trace {trace_id!r}") as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return Trace.model_validate(_json(row[0])), ScoredTrace.model_validate(_json(row[1]))


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value


def load_recent_anomalies(engine: Engine, since: datetime) -> list[Anomaly]:
    """Every anomaly found in a window starting at or after `since`, oldest first (for the report)."""
    query = select(ANOMALIES).where(ANOMALIES.c.window_start >= since).order_by(ANOMALIES.c.window_start)
    with transaction(engine, "reading recent anomalies") as conn:
        return [Anomaly.model_validate(dict(row._mapping)) for row in conn.execute(query)]
