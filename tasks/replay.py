"""Replay one shard of cases: each case x each trial against the agent, scored and persisted.

A case is not a Prefect task (a task costs 5-40 ms here; a case should cost microseconds of
pipeline time). A shard is: Prefect sees, retries and distributes shards, and inside one
the cases run with asyncio concurrency. Trials are written to the results database as they
complete, in batches, so a crash loses at most one batch.
"""

import asyncio
from collections.abc import Sequence

import anyio
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from agents.config import AgentConfig
from agents.factory import build_adapter
from checks import checks_for_case, score_trajectory
from trailcheck import db, progress
from trailcheck.models import Case, CaseResult

WRITE_BATCH = 200


class Shard(BaseModel):
    """A slice of a suite's cases, replayed by one Prefect task."""

    index: int
    cases: list[Case]


def make_shards(cases: Sequence[Case], shard_size: int) -> list[Shard]:
    """Split cases into shards of at most `shard_size`, keeping suite order."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    return [
        Shard(index=i // shard_size, cases=list(cases[i : i + shard_size]))
        for i in range(0, len(cases), shard_size)
    ]


@task(name="replay-shard", task_run_name="replay-shard-{shard.index}", cache_policy=NO_CACHE, retries=0)
async def replay_shard(
    shard: Shard, agent: AgentConfig, trials: int, concurrency: int, run_id: str, database_url: str
) -> list[CaseResult]:
    """Run every case of the shard `trials` times, at most `concurrency` at once."""
    engine = db.get_engine(database_url)
    limit = asyncio.Semaphore(concurrency)
    pending: list[CaseResult] = []
    results: list[CaseResult] = []
    adapter = build_adapter(agent)

    async def flush() -> None:
        batch = pending.copy()
        pending.clear()
        if batch:
            await anyio.to_thread.run_sync(db.record_case_results, engine, run_id, batch)

    async def one(case: Case, checks: list, trial: int) -> None:
        async with limit:
            trajectory = await adapter.run(case, trial)
        result = await score_trajectory(case, trajectory, checks)
        results.append(result)
        pending.append(result)
        progress.report(run_id, result)
        if len(pending) >= WRITE_BATCH:
            await flush()

    try:
        jobs = []
        for case in shard.cases:
            checks = checks_for_case(case)
            jobs += [one(case, checks, trial) for trial in range(trials)]
        await asyncio.gather(*jobs)
    finally:
        await flush()
        await adapter.aclose()
    return sorted(results, key=lambda r: (r.case_id, r.trial))
