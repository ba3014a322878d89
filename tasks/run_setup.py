"""What the regression flow does around its shards, each in one place: the CLI uses the same functions.

- `RunSettings`: the numeric settings, checked once (the CLI's options and the flow's parameters);
- `version_label`: the label a run is recorded and compared under;
- `resumable_run`: the stored run that a resume goes on with, or why it cannot;
- `tag_flow_run`: the suite, version and trigger as tags of the flow run (the UI filters on them);
- `plan_parallelism`, `shard_task_runner`, `wait_with_progress`: where and how many shards run;
- `spool_summary`: what the shards spooled while the results database was down.
"""

import os
import socket
from typing import Any

from prefect import get_client
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, Field

from trailcheck import db
from trailcheck.agents.targets import default_version_label
from trailcheck.analysis.comparison import DEFAULT_ALPHA
from trailcheck.models import RunResult
from trailcheck.tasks.publish import ProgressArtifact
from trailcheck.tasks.replay import ShardOutcome

MAX_PARALLEL_SHARDS = 4
DASK_ADDRESS_ENV = "TRAILCHECK_DASK_ADDRESS"
PROGRESS_EVERY_S = 2.0


class RunSettings(BaseModel):
    """The numbers of a regression run, validated where the CLI reads them and where the flow starts."""

    trials: int = Field(default=1, ge=1, description="Runs per case; reliability is reported as pass^k.")
    concurrency: int = Field(default=8, ge=1, description="Cases in flight at once.")
    shard_size: int = Field(default=50, ge=1, description="Cases per Prefect task.")
    max_parallel_shards: int = Field(
        default=MAX_PARALLEL_SHARDS, ge=1, description="Shards in flight at once."
    )
    alpha: float = Field(
        default=DEFAULT_ALPHA,
        gt=0,
        lt=1,
        description="Family-wise false-alarm rate of the regression verdict.",
    )


def version_label(
    agent: str, agent_version: str | None = None, model: str | None = None, prompt_version: str | None = None
) -> str:
    """The label a run is recorded and compared under: given, or made of model and prompt version."""
    if agent_version:
        return agent_version
    if model and prompt_version:
        return f"{model}@{prompt_version}"
    if model or prompt_version:
        return model or f"prompt-{prompt_version}"
    return default_version_label(agent)


class ResumeError(ValueError):
    """A run cannot be resumed: unknown, already completed, or of another suite."""


def resumable_run(database_url: str, run_id: str | None, suite_name: str) -> RunResult:
    """The stored run that a resume (`--resume RUN_ID`) goes on with; ResumeError says why it cannot."""
    if not run_id:
        raise ResumeError("resume needs the id of the run to go on with")
    engine = db.get_engine(database_url)
    previous, status = db.get_run(engine, run_id), db.run_status(engine, run_id)
    if previous is None:
        raise ResumeError(f"no run {run_id!r} in the results database {db.mask_url(database_url)}")
    if status is db.RunStatus.COMPLETED:
        raise ResumeError(f"run {run_id!r} is already completed; nothing to resume")
    if previous.suite != suite_name:
        raise ResumeError(f"run {run_id!r} replayed suite {previous.suite!r}, not {suite_name!r}")
    return previous


def tag_flow_run(new_tags: list[str]) -> None:
    """Add tags (suite, version, trigger) to the current flow run, so the UI can filter runs by them."""
    if flow_run.id is None:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(flow_run.id).tags
        client.update_flow_run(flow_run.id, tags=sorted({*current, *new_tags}))


def plan_parallelism(
    n_shards: int, concurrency: int, max_parallel: int = MAX_PARALLEL_SHARDS
) -> tuple[int, int]:
    """(shards at once, cases at once per shard) so that their product stays within `concurrency`."""
    parallel = max(1, min(n_shards, max_parallel, concurrency))
    return parallel, max(1, concurrency // parallel)


def shard_task_runner(dask_address: str | None = None) -> TaskRunner[Any]:
    """Where shards run: threads of this process, or a Dask cluster when an address is given.

    With ``$TRAILCHECK_DASK_ADDRESS`` (or `--dask-address`) set to a scheduler such as
    ``tcp://10.0.0.5:8786``, the same flow sends its shards to that cluster: no code changes.
    """
    address = dask_address or os.environ.get(DASK_ADDRESS_ENV)
    if address:
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=address)
    return ThreadPoolTaskRunner(max_workers=MAX_PARALLEL_SHARDS)


def wait_with_progress(
    futures: list[PrefectFuture[Any]], tracker: ProgressArtifact, trials_per_shard: list[int]
) -> list[ShardOutcome]:
    """Wait for every shard, refreshing the progress artifact while they run; their outcomes in order."""
    while True:
        done, not_done = wait(futures, timeout=PROGRESS_EVERY_S)
        finished = sum(n for f, n in zip(futures, trials_per_shard, strict=True) if f in done)
        tracker.at_least(finished)
        if not not_done:
            break
        tracker.refresh()
    outcomes: list[ShardOutcome] = [future.result() for future in futures]
    tracker.refresh(final=True)
    return outcomes


def spool_summary(outcomes: list[ShardOutcome], started: bool) -> tuple[int, str, list[str]]:
    """Records the shards (and the run's start) spooled, the last database error, and remote workers.

    A Dask worker on another machine spools to its own disk: only `trailcheck spool flush` there helps.
    """
    spooled = sum(o.spooled for o in outcomes) + (0 if started else 1)
    error = next((o.spool_error for o in outcomes if o.spool_error), "")
    here = socket.gethostname()
    elsewhere = sorted({o.worker for o in outcomes if o.spooled and o.worker.split(":")[0] != here})
    if elsewhere:
        error = (
            f"spooled on other machines ({', '.join(elsewhere)}): run `trailcheck spool flush` there; {error}"
        )
    return spooled, error, elsewhere
