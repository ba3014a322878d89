"""Read and write runs and case results: domain models in, domain models out.

Callers never see a row: every function takes the `Engine` from `get_engine` first and speaks
`RunResult` / `CaseResult`, and what it reads back equals what was written. Results are written as
they complete (DESIGN.md: loses nothing), so writes are idempotent upserts: a retried Prefect task
or a resumed run that writes the same (run, case, trial) again replaces the row instead of adding
one. A database failure raises `ResultsDatabaseError` with the cause chained, for the caller's
retries to act on.
"""

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Engine, Row, Text, cast, select
from sqlalchemy.exc import IntegrityError

from trailcheck.db import _bulk
from trailcheck.db._core import CASE_RESULTS, RUNS, TRAJECTORIES, VERDICTS
from trailcheck.db.errors import ResultsDatabaseError, UnknownRunError, mask_url
from trailcheck.db.transaction import transaction
from trailcheck.models import CaseResult, CaseStatus, RunResult, Trajectory, Verdict
from trailcheck.models.run import RESULT_SCHEMA_VERSION

_CASE_KEY = ("run_id", "case_id", "trial")
_RUN_COLUMNS = (RUNS.c.run_id, RUNS.c.schema_version, cast(RUNS.c.summary, Text).label("summary"))


class RunStatus(StrEnum):
    """Where a run is: running from `start_run` until `finish_run` marks it completed or failed."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


def start_run(engine: Engine, run: RunResult) -> None:
    """Record the run as running before its first result.

    Case results need their run to exist, and a run whose process dies midway stays visible as
    "running" with the results it has, so it can be resumed instead of silently missing.
    Starting an existing run id again (a resume) marks it running and keeps its case results.
    """
    _save_run(engine, run, RunStatus.RUNNING)


def finish_run(engine: Engine, run: RunResult, status: RunStatus | str = RunStatus.COMPLETED) -> None:
    """Store the run's final summary and counts and mark it completed or failed.

    Only completed runs are baselines (`latest_run`), so a run that broke must end as failed.
    """
    final = RunStatus(status)
    if final is RunStatus.RUNNING:
        raise ValueError("finish_run needs a final status: 'completed' or 'failed'")
    _save_run(engine, run, final)


def record_case_results(engine: Engine, run_id: str, results: Sequence[CaseResult]) -> int:
    """Write these trials of the run in one transaction; returns how many distinct trials were written.

    A trial already stored for (run, case, trial) is replaced with its trajectory and verdicts, and
    so is a duplicate within `results`: the later one wins. Rows go in as one bulk statement per
    table, so a shard's results cost a few round trips whatever their number.
    Raises `UnknownRunError` if `start_run` was never called for `run_id`.
    """
    latest = {(r.case_id, r.trial): r for r in results}
    if not latest:
        return 0
    rows = [_case_row(run_id, r) for r in latest.values()]
    try:
        with transaction(engine, f"writing case results of run {run_id!r}") as conn:
            new_ids = _bulk.insert_new(conn, CASE_RESULTS, rows, CASE_RESULTS.c.id)
            if new_ids is not None:  # the common case: trials written for the first time
                keyed = {(row["case_id"], row["trial"]): i for row, i in zip(rows, new_ids, strict=True)}
                _replace_children(conn, keyed, [], latest)
            else:
                _upsert_case_results(conn, rows, latest)
    except ResultsDatabaseError as exc:
        if isinstance(exc.__cause__, IntegrityError) and run_status(engine, run_id) is None:
            raise UnknownRunError(
                f"results database {mask_url(engine.url)}: run {run_id!r} was never started "
                "(call start_run before record_case_results)"
            ) from exc
        raise
    return len(rows)


def get_run(engine: Engine, run_id: str) -> RunResult | None:
    """The run as last written by `start_run` or `finish_run`, or None if there is no such run."""
    with transaction(engine, f"reading run {run_id!r}") as conn:
        row = conn.execute(select(*_RUN_COLUMNS).where(RUNS.c.run_id == run_id)).first()
    return None if row is None else _run_from(engine, row)


def run_status(engine: Engine, run_id: str) -> RunStatus | None:
    """Whether the run is running, completed or failed (None if unknown): `RunResult` does not say."""
    with transaction(engine, f"reading run {run_id!r}") as conn:
        status = conn.execute(select(RUNS.c.status).where(RUNS.c.run_id == run_id)).scalar_one_or_none()
    return None if status is None else RunStatus(status)


def list_runs(engine: Engine, suite: str | None = None, limit: int = 20) -> list[RunResult]:
    """The most recent runs (of one suite, or of all), newest first by start time, any status."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    query = select(*_RUN_COLUMNS)
    if suite is not None:
        query = query.where(RUNS.c.suite == suite)
    query = query.order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc()).limit(limit)
    with transaction(engine, "listing runs") as conn:
        rows = conn.execute(query).all()
    return [_run_from(engine, row) for row in rows]


def latest_run(
    engine: Engine,
    suite: str,
    agent_version: str | None = None,
    status: RunStatus | str = RunStatus.COMPLETED,
    exclude_run_id: str | None = None,
) -> RunResult | None:
    """The newest run of `suite` (with that agent version, if given) in that status, or None.

    This finds the baseline: the last completed run of the same suite with the baseline agent
    version, leaving out the run being compared (`exclude_run_id`).
    """
    query = select(*_RUN_COLUMNS).where(RUNS.c.suite == suite, RUNS.c.status == RunStatus(status).value)
    if agent_version is not None:
        query = query.where(RUNS.c.agent_version == agent_version)
    if exclude_run_id is not None:
        query = query.where(RUNS.c.run_id != exclude_run_id)
    query = query.order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc()).limit(1)
    with transaction(engine, f"finding the latest run of suite {suite!r}") as conn:
        row = conn.execute(query).first()
    return None if row is None else _run_from(engine, row)


def latest_accepted_run(
    engine: Engine, suite: str, exclude_run_id: str | None = None, scan: int = 100
) -> RunResult | None:
    """The newest completed run of `suite` that passed its gate (`RunResult.ok`), or None.

    This is the baseline of scheduled and change-triggered runs, whatever agent version it
    was: the last run the team could have shipped. Only the `scan` newest completed runs
    are looked at.
    """
    query = (
        select(*_RUN_COLUMNS)
        .where(RUNS.c.suite == suite, RUNS.c.status == RunStatus.COMPLETED.value)
        .order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc())
        .limit(scan)
    )
    if exclude_run_id is not None:
        query = query.where(RUNS.c.run_id != exclude_run_id)
    with transaction(engine, f"finding the last accepted run of suite {suite!r}") as conn:
        rows = conn.execute(query).all()
    return next((run for run in (_run_from(engine, row) for row in rows) if run.ok), None)


def baseline_labels(engine: Engine, suite: str) -> list[str]:
    """The agent versions that have a completed run of `suite`: what `--baseline` can name."""
    query = (
        select(RUNS.c.agent_version)
        .where(RUNS.c.suite == suite, RUNS.c.status == RunStatus.COMPLETED.value)
        .distinct()
        .order_by(RUNS.c.agent_version)
    )
    with transaction(engine, f"listing the versions run on suite {suite!r}") as conn:
        return [str(label) for label in conn.execute(query).scalars()]


def load_case_results(
    engine: Engine, run_id: str, case_ids: Collection[str] | None = None
) -> list[CaseResult]:
    """The run's stored trials (all, or of `case_ids`) with trajectories and verdicts, by (case_id, trial).

    The order is made in Python: PostgreSQL sorts text by its locale and SQLite by bytes, and a
    report must not change order with the backend.
    """
    cases = (
        select(CASE_RESULTS.c.id, CASE_RESULTS.c.schema_version, CASE_RESULTS.c.case_id)
        .add_columns(
            CASE_RESULTS.c.trial, CASE_RESULTS.c.task_type, cast(TRAJECTORIES.c.data, Text).label("data")
        )
        .join(TRAJECTORIES, TRAJECTORIES.c.case_result_id == CASE_RESULTS.c.id)
        .where(CASE_RESULTS.c.run_id == run_id)
    )
    verdicts = (
        select(VERDICTS)
        .join(CASE_RESULTS, CASE_RESULTS.c.id == VERDICTS.c.case_result_id)
        .where(CASE_RESULTS.c.run_id == run_id)
        .order_by(VERDICTS.c.case_result_id, VERDICTS.c.position)
    )
    if case_ids is not None:
        cases = cases.where(CASE_RESULTS.c.case_id.in_(list(case_ids)))
        verdicts = verdicts.where(CASE_RESULTS.c.case_id.in_(list(case_ids)))
    with transaction(engine, f"reading case results of run {run_id!r}") as conn:
        case_rows = conn.execute(cases).all()
        verdict_rows = conn.execute(verdicts).all()
    by_case: defaultdict[int, list[Verdict]] = defaultdict(list)
    for v in verdict_rows:
        by_case[v.case_result_id].append(_verdict_from(v))
    results = []
    for row in case_rows:
        _check_version(engine, row.schema_version, f"case result {row.case_id!r} of run {run_id!r}")
        results.append(
            CaseResult(
                case_id=row.case_id,
                trial=row.trial,
                task_type=row.task_type,
                trajectory=Trajectory.model_validate_json(row.data),
                verdicts=by_case.get(row.id, []),
            )
        )
    results.sort(key=lambda r: (r.case_id, r.trial))
    return results


def completed_case_keys(engine: Engine, run_id: str) -> set[tuple[str, int]]:
    """The (case_id, trial) pairs already stored for the run, whatever their status.

    A resumed run skips these; an errored trial is a result too (the agent did not answer).
    """
    query = select(CASE_RESULTS.c.case_id, CASE_RESULTS.c.trial).where(CASE_RESULTS.c.run_id == run_id)
    with transaction(engine, f"reading case keys of run {run_id!r}") as conn:
        return {(case_id, trial) for case_id, trial in conn.execute(query)}


def _save_run(engine: Engine, run: RunResult, status: RunStatus) -> None:
    values = {
        "run_id": run.run_id,
        "schema_version": run.schema_version,
        "suite": run.suite,
        "suite_version": run.suite_version,
        "agent_version": run.agent_version,
        "baseline_version": run.baseline_version,
        "trials": run.trials,
        "status": status.value,
        "started_at": _utc(run.started_at),
        "finished_at": None if run.finished_at is None else _utc(run.finished_at),
        "flow_run_id": run.flow_run_id,
        "pass_at_1": run.pass_at_1,
        "pass_hat_k": json.dumps({str(k): v for k, v in run.pass_hat_k.items()}),
        "passed": run.count(CaseStatus.PASSED),
        "failed": run.count(CaseStatus.FAILED),
        "errored": run.count(CaseStatus.ERRORED),
        "summary": run.model_dump_json(),
    }
    with transaction(engine, f"saving run {run.run_id!r}") as conn:
        _bulk.upsert(conn, RUNS, [values], ["run_id"])


def _case_row(run_id: str, result: CaseResult) -> dict[str, Any]:
    trajectory = result.trajectory
    failure = result.first_failure
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "run_id": run_id,
        "case_id": result.case_id,
        "trial": result.trial,
        "task_type": result.task_type,
        "status": result.status.value,
        "failure_category": failure.failure_category.value if failure and failure.failure_category else None,
        "reason": result.reason,
        "cost_usd": trajectory.cost_usd,
        "tokens": trajectory.tokens.total,
        "latency_s": trajectory.latency_s,
    }


def _upsert_case_results(
    conn: Connection, rows: list[dict[str, Any]], results: dict[tuple[str, int], CaseResult]
) -> None:
    """Insert or overwrite the case rows, then swap in their children."""
    returning = [CASE_RESULTS.c.id, CASE_RESULTS.c.case_id, CASE_RESULTS.c.trial, _bulk.inserted_flag(conn)]
    returned = _bulk.upsert(conn, CASE_RESULTS, rows, _CASE_KEY, returning)
    rewritten = [r.id for r in returned if not r.inserted]
    _replace_children(conn, {(r.case_id, r.trial): r.id for r in returned}, rewritten, results)


def _replace_children(
    conn: Connection,
    ids: dict[tuple[str, int], int],
    rewritten: list[int],
    results: dict[tuple[str, int], CaseResult],
) -> None:
    """Swap in the trajectories and verdicts of the upserted case results (a rewrite replaces them).

    Only `rewritten` rows (those that existed before) can have children to delete.
    """
    _bulk.delete_in(conn, VERDICTS.c.case_result_id, rewritten)
    _bulk.delete_in(conn, TRAJECTORIES.c.case_result_id, rewritten)
    trajectories: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    for key, case_result_id in ids.items():
        result = results[key]
        trajectories.append(
            {
                "case_result_id": case_result_id,
                "schema_version": RESULT_SCHEMA_VERSION,
                "data": result.trajectory.model_dump_json(),
            }
        )
        verdicts.extend(_verdict_row(case_result_id, i, v) for i, v in enumerate(result.verdicts))
    _bulk.insert_rows(conn, TRAJECTORIES, trajectories)
    _bulk.insert_rows(conn, VERDICTS, verdicts)


def _verdict_row(case_result_id: int, position: int, verdict: Verdict) -> dict[str, Any]:
    return {
        "schema_version": RESULT_SCHEMA_VERSION,
        "case_result_id": case_result_id,
        "position": position,
        "check": verdict.check,
        "status": verdict.status.value,
        "score": verdict.score,
        "reason": verdict.reason,
        "failure_category": None if verdict.failure_category is None else verdict.failure_category.value,
        "step_index": verdict.step_index,
    }


def _verdict_from(row: Row[Any]) -> Verdict:
    return Verdict(
        check=row.check,
        status=row.status,
        score=row.score,
        reason=row.reason,
        failure_category=row.failure_category,
        step_index=row.step_index,
    )


def _run_from(engine: Engine, row: Row[Any]) -> RunResult:
    _check_version(engine, row.schema_version, f"run {row.run_id!r}")
    return RunResult.model_validate_json(row.summary)


def _check_version(engine: Engine, version: int, what: str) -> None:
    if version > RESULT_SCHEMA_VERSION:
        raise ResultsDatabaseError(
            f"results database {mask_url(engine.url)}: {what} has schema version {version}, newer than "
            f"this trailcheck's {RESULT_SCHEMA_VERSION}; upgrade trailcheck to read it"
        )


def _utc(moment: datetime) -> datetime:
    """Aware UTC, so runs sort by instant on both backends (SQLite drops the offset; naive means UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
