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
import time
from collections import defaultdict
from collections.abc import Sequence

import anyio
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from trailcheck import db
from trailcheck.agents import environment
from trailcheck.agents.base import AgentAdapter
from trailcheck.agents.config import AgentConfig
from trailcheck.agents.factory import build_adapter
from trailcheck.analysis.reliability import summarize_case
from trailcheck.checks import Check, checks_for_case, score_trajectory
from trailcheck.checks.contracts.inline import contract_checks
from trailcheck.db.spool import SpoolingWriter
from trailcheck.gc_tuning import relaxed_gc
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import Case, CaseResult, CaseSummary, Trajectory
from trailcheck.redaction import RedactionConfig, Redactor, secret_values
from trailcheck.render import progress

WRITE_BATCH = 200
WRITE_INTERVAL_S = 1.0


class Shard(BaseModel):
    """A slice of a suite's cases, replayed by one Prefect task."""

    index: int
    cases: list[Case]


class ShardOutcome(BaseModel):
    """What a shard hands back: one summary per case, and where it ran."""

    index: int
    worker: str
    summaries: list[CaseSummary]
    spooled: int = 0
    spool_error: str = ""


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
    tools: str | None = None,
    resume: bool = False,
    redaction: RedactionConfig | None = None,
) -> ShardOutcome:
    """Run every case of the shard `trials` times, at most `concurrency` at once.

    With `resume`, trials the results database already holds for this run are read back and not
    run again (a run killed midway goes on where it stopped). Each trial is scored on what the
    agent said, then redacted (`redaction`, plus the agent config's secrets) before it is kept.

    The shard travels as JSON: Prefect walks model parameters field by field looking for
    futures (profiled: ~15% of a replay's CPU on 10,000 cases), but not a string, which also
    ships cheaply to a Dask worker. With `tools` (an inventory file) each case is also judged by
    the inline contract checks: every tool response against its tool's schema.
    """
    with relaxed_gc():
        return await _replay(
            index, shard_json, agent, trials, concurrency, run_id, database_url, tools, resume, redaction
        )


async def _replay(
    index: int,
    shard_json: str,
    agent: AgentConfig,
    trials: int,
    concurrency: int,
    run_id: str,
    database_url: str,
    tools: str | None,
    resume: bool,
    redaction: RedactionConfig | None,
) -> ShardOutcome:
    shard = Shard.model_validate_json(shard_json)
    writer = SpoolingWriter(database_url, run_id)  # the database, or a local spool while it fails
    limit = asyncio.Semaphore(concurrency)
    pending: list[CaseResult] = []
    open_cases: defaultdict[str, list[CaseResult]] = defaultdict(list)
    summaries: dict[str, CaseSummary] = {}
    last_write = time.monotonic()
    if resume:
        stored = db.load_case_results(db.get_engine(database_url), run_id, [c.id for c in shard.cases])
        for result in stored:
            if result.trial < trials:
                open_cases[result.case_id].append(result)
    adapter = build_adapter(agent)
    inline = contract_checks(load_inventory(tools).inventory) if tools else []
    redactor = Redactor(redaction, secret_values(agent))

    async def flush() -> None:
        nonlocal last_write
        batch = pending.copy()
        pending.clear()
        last_write = time.monotonic()
        if batch:
            await anyio.to_thread.run_sync(writer.record, batch)

    def finish_case(case_id: str) -> None:
        summaries[case_id] = summarize_case(open_cases.pop(case_id))

    tools_url = getattr(agent, "tools_url", None)

    async def one(case: Case, checks: list[Check], trial: int) -> None:
        async with limit:
            trajectory = await _run_trial(adapter, case, trial, tools_url)
        result = redactor.case_result(await score_trajectory(case, trajectory, checks))
        pending.append(result)
        progress.report(run_id, result)
        done = open_cases[case.id]
        done.append(result)
        if len(done) == trials:
            finish_case(case.id)
        # Written in batches, and at least every WRITE_INTERVAL_S: a killed run loses little.
        if len(pending) >= WRITE_BATCH or time.monotonic() - last_write >= WRITE_INTERVAL_S:
            await flush()

    try:
        jobs = []
        for case in shard.cases:
            have = {r.trial for r in open_cases.get(case.id, [])}
            if len(have) == trials:
                finish_case(case.id)
                continue
            checks = [*checks_for_case(case), *inline]
            jobs += [one(case, checks, trial) for trial in range(trials) if trial not in have]
        await asyncio.gather(*jobs)
    finally:
        await flush()
        await adapter.aclose()
    return ShardOutcome(
        index=shard.index,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        summaries=[summaries[case.id] for case in shard.cases],
        spooled=writer.spooled,
        spool_error=writer.last_error,
    )


async def _run_trial(adapter: AgentAdapter, case: Case, trial: int, tools_url: str | None) -> Trajectory:
    """Run one trial, then read the probes the case's state assertions name; with a reset hook, reset
    the environment first and hold the environment slot throughout."""
    env = case.environment
    names = {a.probe for a in case.expectations.state}
    if env is None:
        return await adapter.run(case, trial)
    if env.reset is None:  # probes scoped to the trial (by session) need no exclusive slot
        return await environment.read_state(await adapter.run(case, trial), env, names, tools_url)
    async with environment.environment_slot():
        problem = await environment.reset(env, tools_url)
        trajectory = await adapter.run(case, trial)
        if problem:
            return trajectory.model_copy(update={"state_errors": {"reset": problem}})
        return await environment.read_state(trajectory, env, names, tools_url)
