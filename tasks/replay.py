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
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, nullcontext

import anyio
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from trailcheck import db
from trailcheck.agents import environment
from trailcheck.agents.base import AgentAdapter
from trailcheck.agents.config import AgentConfig
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.retry import AgentBreaker, RetryingAdapter, for_run
from trailcheck.analysis.reliability import summarize_case
from trailcheck.checks import Check, checks_for_case, score_trajectory
from trailcheck.checks.contracts.inline import contract_checks
from trailcheck.checks.provenance import TaintPolicy
from trailcheck.checks.registry import trace_checks
from trailcheck.db.spool import SpoolingWriter
from trailcheck.gc_tuning import relaxed_gc
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import Case, CaseResult, CaseSummary, Trajectory
from trailcheck.redaction import RedactionConfig, Redactor, secret_values
from trailcheck.render import progress

WRITE_BATCH = 200
WRITE_INTERVAL_S = 1.0
# Set on SIGTERM/SIGINT (`request_stop`): shards start no new trial, write what they have, and end.
_STOP = threading.Event()


def request_stop() -> None:
    """Ask every shard of this process to stop starting trials; what they recorded is still written."""
    _STOP.set()


def stop_requested() -> bool:
    """Whether `request_stop` was called (and not `clear_stop` since)."""
    return _STOP.is_set()


def clear_stop() -> None:
    """Let shards run trials again (a new run in the same process)."""
    _STOP.clear()


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


def _gate(
    adapter: object, limit: asyncio.Semaphore, breaker: AgentBreaker
) -> AbstractAsyncContextManager[object]:
    """What a trial holds while it runs: the concurrency limit, or nothing for a retrying adapter,
    which takes a slot for each try and none while it waits to retry (other trials run meanwhile)."""
    if isinstance(adapter, RetryingAdapter):
        adapter.slot, adapter.breaker = limit, breaker  # it counts each of its tries itself
        return nullcontext()
    return limit


async def _attempt(
    adapter: AgentAdapter,
    gate: AbstractAsyncContextManager[object],
    breaker: AgentBreaker,
    case: Case,
    trial: int,
    tools_url: str | None,
) -> Trajectory:
    """One trial against the agent, or, once the run's agent is known down, an errored one at once."""
    async with gate:
        if breaker.is_open:  # looked at once the slot is ours: it may have opened while we waited
            return breaker.skipped(case, trial)
        trajectory = await _run_trial(adapter, case, trial, tools_url)
    if not isinstance(adapter, RetryingAdapter):
        breaker.record(trajectory)
    return trajectory


def _resumed(
    open_cases: defaultdict[str, list[CaseResult]], database_url: str, run_id: str, shard: Shard, trials: int
) -> None:
    """Put the trials of the shard's cases the database already holds into `open_cases`."""
    stored = db.load_case_results(db.get_engine(database_url), run_id, [c.id for c in shard.cases])
    for result in stored:
        if result.trial < trials:
            open_cases[result.case_id].append(result)


def _in_order(shard: Shard, summaries: dict[str, CaseSummary]) -> list[CaseSummary]:
    """The case summaries in suite order (all of them, unless the run was stopped midway)."""
    return [summaries[case.id] for case in shard.cases if case.id in summaries]


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
    inline_contracts: bool = True,
) -> ShardOutcome:
    """Run every case of the shard `trials` times, at most `concurrency` at once.

    With `resume`, trials the results database already holds for this run are read back and not
    run again (a run killed midway goes on where it stopped). Each trial is scored on what the
    agent said, then redacted (`redaction`, plus the agent config's secrets) before it is kept.

    The shard travels as JSON: Prefect walks model parameters field by field looking for
    futures (profiled: ~15% of a replay's CPU on 10,000 cases), but not a string, which also
    ships cheaply to a Dask worker. With `tools` (an inventory file) the injection checks judge
    under its `trusted` and `side_effects` flags, and, with `inline_contracts`, each case is also
    judged by the inline contract checks: every tool response against its tool's schema.
    """
    with relaxed_gc():
        return await _replay(
            index, shard_json, agent, trials, concurrency, run_id, database_url, tools, resume, redaction,
            inline_contracts,
        )  # fmt: skip


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
    inline_contracts: bool,
) -> ShardOutcome:
    shard = Shard.model_validate_json(shard_json)
    writer = SpoolingWriter(database_url, run_id)  # the database, or a local spool while it fails
    limit = asyncio.Semaphore(concurrency)
    pending: list[CaseResult] = []
    open_cases: defaultdict[str, list[CaseResult]] = defaultdict(list)
    summaries: dict[str, CaseSummary] = {}
    last_write = time.monotonic()
    if resume:
        _resumed(open_cases, database_url, run_id, shard, trials)
    adapter = build_adapter(agent)
    breaker = for_run(run_id)
    gate = _gate(adapter, limit, breaker)
    inventory = load_inventory(tools).inventory if tools else None
    inline = contract_checks(inventory) if inventory and inline_contracts else []
    # One policy object per shard: the injection checks share one scan per trajectory under it.
    available = trace_checks(TaintPolicy.from_inventory(inventory) if inventory else None)
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
        if _STOP.is_set():
            return  # not run, not recorded: a resumed run runs it
        trajectory = await _attempt(adapter, gate, breaker, case, trial, tools_url)
        result = await redactor.acase_result(await score_trajectory(case, trajectory, checks))
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
            checks = [*checks_for_case(case, available), *inline]
            jobs += [one(case, checks, trial) for trial in range(trials) if trial not in have]
        await asyncio.gather(*jobs)
    finally:
        await flush()
        await adapter.aclose()
    return ShardOutcome(
        index=shard.index,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        summaries=_in_order(shard, summaries),
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
