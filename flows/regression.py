"""The regression flow: load a suite, replay it against an agent, score, persist, compare, publish.

It reads like the diagram in DESIGN.md::

    suite ─► shards ─► replay (agent adapter) ─► checks ─► results DB ─► compare with baseline ─► artifacts
"""

import os
import uuid
from datetime import UTC, datetime

from prefect import allow_failure, flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from agents.targets import resolve_agent
from tasks.publish import publish_artifacts
from tasks.record import compare, finish_run, start_run
from tasks.replay import ShardOutcome, make_shards, replay_shard
from trailcheck import db
from trailcheck.models import RunResult
from trailcheck.reliability import suite_reliability
from trailcheck.suite_loader import load_suite

MAX_PARALLEL_SHARDS = 4
DASK_ADDRESS_ENV = "TRAILCHECK_DASK_ADDRESS"


def _run_name() -> str:
    params = flow_run.parameters
    suite = str(params.get("suite", "suite")).rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    version = params.get("agent_version") or params.get("agent", "agent")
    return f"regression-{suite}-{version}"


def plan_parallelism(
    n_shards: int, concurrency: int, max_parallel: int = MAX_PARALLEL_SHARDS
) -> tuple[int, int]:
    """(shards at once, cases at once per shard) so that their product stays within `concurrency`."""
    parallel = max(1, min(n_shards, max_parallel, concurrency))
    return parallel, max(1, concurrency // parallel)


def shard_task_runner(dask_address: str | None = None) -> TaskRunner:
    """Where shards run: threads of this process, or a Dask cluster when an address is given.

    With ``$TRAILCHECK_DASK_ADDRESS`` (or `--dask-address`) set to a scheduler such as
    ``tcp://10.0.0.5:8786``, the same flow sends its shards to that cluster: no code changes.
    """
    address = dask_address or os.environ.get(DASK_ADDRESS_ENV)
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_SHARDS)


@flow(
    name="regression",
    flow_run_name=_run_name,
    task_runner=shard_task_runner(),
    log_prints=False,
)
def regression(
    suite: str,
    agent: str = "reference:v1",
    agent_version: str | None = None,
    trials: int = 1,
    concurrency: int = 8,
    baseline_version: str | None = None,
    shard_size: int = 50,
    database_url: str | None = None,
    run_id: str | None = None,
    max_parallel_shards: int = MAX_PARALLEL_SHARDS,
) -> RunResult:
    """Replay `suite` against `agent` `trials` times per case and record the result.

    agent: reference:v1, an http(s) URL, python:module:function or an agent YAML file.
    agent_version: the label runs are recorded and compared under (model, prompt id).
    baseline_version: compare with the last completed run of this suite on that version.
    max_parallel_shards: shards in flight at once (raise it to the worker count of a Dask cluster).
    """
    if trials < 1 or concurrency < 1:
        raise ValueError(f"trials and concurrency must be at least 1 (got {trials}, {concurrency})")
    logger = get_run_logger()
    url = db.database_url(database_url)
    loaded = load_suite(suite)
    with resolve_agent(agent, agent_version) as target:
        run = RunResult(
            run_id=run_id or uuid.uuid4().hex[:12],
            suite=loaded.name,
            suite_version=loaded.version,
            agent_version=target.version,
            baseline_version=baseline_version,
            trials=trials,
            started_at=datetime.now(UTC),
            flow_run_id=str(flow_run.id) if flow_run.id else None,
        )
        start_run(run, url)
        shards = make_shards(loaded.cases, shard_size)
        parallel, per_shard = plan_parallelism(len(shards), concurrency, max_parallel_shards)
        logger.info(
            "run %s: %d cases x %d trials in %d shards (%d at once, %d cases each)",
            run.run_id, len(loaded.cases), trials, len(shards), parallel, per_shard,
        )  # fmt: skip
        futures: list[PrefectFuture[ShardOutcome]] = []
        for i, shard in enumerate(shards):
            # A sliding window: shard i starts when shard i - parallel is done, whatever its outcome.
            after = [allow_failure(futures[i - parallel])] if i >= parallel else []
            futures.append(
                replay_shard.submit(
                    shard.index,
                    shard.model_dump_json(),
                    target.config,
                    trials,
                    per_shard,
                    run.run_id,
                    url,
                    wait_for=after,
                )
            )
        outcomes = [future.result() for future in futures]
    summaries = [summary for outcome in outcomes for summary in outcome.summaries]
    workers = sorted({o.worker for o in outcomes})
    logger.info("shards ran on %s", ", ".join(workers))
    pass_at_1, pass_hat_k = suite_reliability(summaries)
    # quote(): Prefect would otherwise walk every case summary looking for futures, twice per task
    # call (~0.05 ms a case each time).
    comparison = compare(quote(run), quote(summaries), baseline_version, url) if baseline_version else None
    run = run.model_copy(
        update={
            "cases": summaries,
            "pass_at_1": pass_at_1,
            "pass_hat_k": pass_hat_k,
            "comparison": comparison,
            "shard_workers": workers,
            "finished_at": datetime.now(UTC),
        }
    )
    finish_run(quote(run), url)
    publish_artifacts(quote(run), flow_run.ui_url)
    logger.info("run %s finished: pass@1 %.3f, ok=%s", run.run_id, pass_at_1, run.ok)
    return run
