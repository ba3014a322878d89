"""Replay one shard of cases: each case x each trial against the agent, scored and persisted.

A case is not a Prefect task (a task costs 5-40 ms here; a case should cost microseconds of
pipeline time). A shard is: Prefect sees, retries and distributes shards, and inside one
the cases run with asyncio concurrency. Trials are written to the results database in
batches as they complete, and a shard returns only case summaries, so memory stays bounded
by the trials in flight, not by the size of the suite.
"""

import asyncio
import os
import socket
from collections import defaultdict
from collections.abc import Sequence

import anyio
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from agents.config import AgentConfig
from agents.factory import build_adapter
from checks import Check, checks_for_case, score_trajectory
from trailcheck import db, progress
from trailcheck.gc_tuning import relaxed_gc
from trailcheck.models import Case, CaseResult, CaseSummary
from trailcheck.reliability import summarize_case

WRITE_BATCH = 200


class Shard(BaseModel):
    """A slice of a suite's cases, replayed by one Prefect task."""

    index: int
    cases: list[Case]


class ShardOutcome(BaseModel):
    """What a shard hands back: one summary per case, and where it ran."""

    index: int
    worker: str
    summaries: list[CaseSummary]


def make_shards(cases: Sequence[Case], shard_size: int) -> list[Shard]:
    """Split cases into shards of at most `shard_size`, keeping suite order."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be at least 1, got {shard_size}")
    return [
        Shard(index=i // shard_size, cases=list(cases[i : i + shard_size]))
        for i in range(0, len(cases), shard_size)
    ]


@task(name="replay-shard", task_run_name="replay-shard-{index}", cache_policy=NO_CACHE, retries=0)
async def replay_shard(
    index: int,
    shard_json: str,
    agent: AgentConfig,
    trials: int,
    concurrency: int,
    run_id: str,
    database_url: str,
) -> ShardOutcome:
    """Run every case of the shard `trials` times, at most `concurrency` at once.

    The shard travels as JSON: Prefect walks model parameters field by field looking for
    futures (profiled: ~15% of a replay's CPU on 10,000 cases), but not a string, which also
    ships cheaply to a Dask worker.
    """
    with relaxed_gc():
        return await _replay(index, shard_json, agent, trials, concurrency, run_id, database_url)


async def _replay(
    index: int,
    shard_json: str,
    agent: AgentConfig,
    trials: int,
    concurrency: int,
    run_id: str,
    database_url: str,
) -> ShardOutcome:
    shard = Shard.model_validate_json(shard_json)
    engine = db.get_engine(database_url)
    limit = asyncio.Semaphore(concurrency)
    pending: list[CaseResult] = []
    open_cases: defaultdict[str, list[CaseResult]] = defaultdict(list)
    summaries: dict[str, CaseSummary] = {}
    adapter = build_adapter(agent)

    async def flush() -> None:
        batch = pending.copy()
        pending.clear()
        if batch:
            await anyio.to_thread.run_sync(db.record_case_results, engine, run_id, batch)

    async def one(case: Case, checks: list[Check], trial: int) -> None:
        async with limit:
            trajectory = await adapter.run(case, trial)
        result = await score_trajectory(case, trajectory, checks)
        pending.append(result)
        progress.report(run_id, result)
        done = open_cases[case.id]
        done.append(result)
        if len(done) == trials:
            summaries[case.id] = summarize_case(open_cases.pop(case.id))
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
    return ShardOutcome(
        index=shard.index,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        summaries=[summaries[case.id] for case in shard.cases],
    )
