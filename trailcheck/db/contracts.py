"""Read the tool responses replays recorded, and write and read the results of contract checks.

Responses come from the trajectories of case results written in a time window (by the database's
clock, `case_results.created_at`), optionally of some runs only. Contract runs are stored as one
`contract_runs` row (the whole `ContractRunResult` as JSON, plus columns to filter on) and one
`contract_outcomes` row per tool and expectation; writing a run again replaces its outcomes.
"""

import json
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import Engine, Text, cast, delete, select

from trailcheck.db import _bulk
from trailcheck.db._core import CASE_RESULTS, CONTRACT_OUTCOMES, CONTRACT_RUNS, TRAJECTORIES
from trailcheck.db.errors import ResultsDatabaseError, mask_url
from trailcheck.db.transaction import transaction
from trailcheck.models.contract import (
    CONTRACT_RESULT_SCHEMA_VERSION,
    ContractFinding,
    ContractRunResult,
    RecordedCalls,
)


def _bound(engine: Engine, moment: datetime) -> datetime:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # SQLite keeps CURRENT_TIMESTAMP as naive UTC text: compare like with like.
    return aware.replace(tzinfo=None) if engine.dialect.name == "sqlite" else aware


def recorded_tool_responses(
    engine: Engine,
    since: datetime | None = None,
    until: datetime | None = None,
    run_ids: Collection[str] | None = None,
) -> RecordedCalls:
    """Every tool response recorded by replays written in [since, until), of `run_ids` if given."""
    query = (
        select(CASE_RESULTS.c.run_id, CASE_RESULTS.c.case_id, CASE_RESULTS.c.trial, CASE_RESULTS.c.created_at)
        .add_columns(cast(TRAJECTORIES.c.data, Text).label("data"))
        .join(TRAJECTORIES, TRAJECTORIES.c.case_result_id == CASE_RESULTS.c.id)
        .order_by(CASE_RESULTS.c.id)
    )
    if since is not None:
        query = query.where(CASE_RESULTS.c.created_at >= _bound(engine, since))
    if until is not None:
        query = query.where(CASE_RESULTS.c.created_at < _bound(engine, until))
    if run_ids is not None:
        query = query.where(CASE_RESULTS.c.run_id.in_(list(run_ids)))
    found = RecordedCalls()
    with transaction(engine, "reading recorded tool responses") as conn:
        for row in conn.execute(query):
            steps = json.loads(row.data).get("steps") or []
            source = f"run {row.run_id} case {row.case_id} trial {row.trial}"
            found.add_steps(steps, source, row.created_at)
    return found


def save_contract_run(engine: Engine, result: ContractRunResult) -> None:
    """Write (or rewrite) a contracts run and one row per tool and expectation."""
    run_values = {
        "run_id": result.run_id,
        "schema_version": result.schema_version,
        "inventory": result.inventory,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "window_start": result.window_start,
        "window_end": result.window_end,
        "flow_run_id": result.flow_run_id,
        "responses": result.responses,
        "failed_expectations": len(result.findings),
        "summary": result.model_dump_json(),
    }
    outcomes = [
        {
            "schema_version": CONTRACT_RESULT_SCHEMA_VERSION,
            "run_id": result.run_id,
            "position": position,
            "tool": tool.tool,
            "expectation": outcome.expectation,
            "column_name": outcome.column,
            "success": outcome.success,
            "element_count": outcome.element_count,
            "unexpected_count": outcome.unexpected_count,
            "failure_category": None if outcome.success else "integration",
            "reason": outcome.describe(),
            "examples": json.dumps(outcome.examples),
        }
        for tool in result.tools
        for position, outcome in enumerate(tool.outcomes)
    ]
    with transaction(engine, f"saving contracts run {result.run_id!r}") as conn:
        _bulk.upsert(conn, CONTRACT_RUNS, [run_values], ["run_id"])
        conn.execute(delete(CONTRACT_OUTCOMES).where(CONTRACT_OUTCOMES.c.run_id == result.run_id))
        _bulk.insert_rows(conn, CONTRACT_OUTCOMES, outcomes)


def get_contract_run(engine: Engine, run_id: str) -> ContractRunResult | None:
    """The contracts run as written, or None."""
    query = select(CONTRACT_RUNS.c.schema_version, cast(CONTRACT_RUNS.c.summary, Text).label("summary"))
    with transaction(engine, f"reading contracts run {run_id!r}") as conn:
        row = conn.execute(query.where(CONTRACT_RUNS.c.run_id == run_id)).first()
    if row is None:
        return None
    if row.schema_version > CONTRACT_RESULT_SCHEMA_VERSION:
        raise ResultsDatabaseError(
            f"results database {mask_url(engine.url)}: contracts run {run_id!r} has schema version "
            f"{row.schema_version}, newer than this trailcheck's; upgrade trailcheck to read it"
        )
    return ContractRunResult.model_validate_json(row.summary)


def contract_findings(engine: Engine, run_id: str) -> list[ContractFinding]:
    """The broken expectations of a contracts run, read from its outcome rows, tool by tool."""
    query = (
        select(
            CONTRACT_OUTCOMES.c.tool,
            CONTRACT_OUTCOMES.c.expectation,
            CONTRACT_OUTCOMES.c.column_name,
            CONTRACT_OUTCOMES.c.unexpected_count,
            CONTRACT_OUTCOMES.c.failure_category,
            CONTRACT_OUTCOMES.c.reason,
            CONTRACT_OUTCOMES.c.examples,
        )
        .where(CONTRACT_OUTCOMES.c.run_id == run_id, CONTRACT_OUTCOMES.c.success.is_(False))
        .order_by(CONTRACT_OUTCOMES.c.tool, CONTRACT_OUTCOMES.c.position)
    )
    with transaction(engine, f"reading findings of contracts run {run_id!r}") as conn:
        rows = conn.execute(query).all()
    return [
        ContractFinding(
            tool=row.tool,
            expectation=row.expectation,
            column=row.column_name,
            reason=row.reason,
            unexpected_count=row.unexpected_count,
            examples=row.examples if isinstance(row.examples, list) else json.loads(row.examples or "[]"),
            failure_category=row.failure_category,
        )
        for row in rows
    ]
