"""What the regression flow does around its shards, each in one place: the CLI uses the same functions.

- `RunSettings`: the numeric settings, checked once (the CLI's options and the flow's parameters);
- `version_label`: the label a run is recorded and compared under;
- `resumable_run`: the stored run that a resume goes on with, or why it cannot;
- `tag_flow_run`: the suite, version and trigger as tags of the flow run (the UI filters on them);
- `plan_parallelism`, `shard_task_runner`, `wait_with_progress`: where and how many shards run;
- `spool_summary`: what the shards spooled while the results database was down;
- `new_run`, `replay_shards`, `baseline_comparison`, `with_results`, `publish_and_notify`: the steps
  the flow strings together.
"""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prefect import allow_failure, get_client, get_run_logger
from prefect.futures import PrefectFuture, wait
from prefect.runtime import flow_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from pydantic import BaseModel, Field

from trailcheck import db
from trailcheck.agents.config import AgentConfig
from trailcheck.agents.targets import ResolvedAgent, default_version_label
from trailcheck.analysis.comparison import DEFAULT_ALPHA
from trailcheck.analysis.reliability import suite_reliability
from trailcheck.models import CaseSummary, Comparison, RunResult, Suite
from trailcheck.redaction import RedactionConfig, Redactor, secret_values
from trailcheck.render import progress
from trailcheck.render.slack_regression import render_run_message
from trailcheck.tasks.notify import notify_slack
from trailcheck.tasks.publish import ProgressArtifact, publish_artifacts, publish_message_link
from trailcheck.tasks.record import compare
from trailcheck.tasks.replay import Shard, ShardOutcome, replay_shard
from trailcheck.tasks.report import publish_report
from trailcheck.tasks.unwalked import unwalked

MAX_PARALLEL_SHARDS = 4
DASK_ADDRESS_ENV = "TRAILCHECK_DASK_ADDRESS"
PROGRESS_EVERY_S = 2.0


class RunSettings(BaseModel):
    """The numbers of a regression run, validated where the CLI reads them and where the flow starts."""

    trials: int = Field(default=1, ge=1, description="Runs per case; reliability is reported as pass^k.")
    concurrency: int = Field(default=8, ge=1, description="Cases in flight at once.")
    shard_size: int | None = Field(
        default=None, ge=1, description="Cases per Prefect task (default: auto_shard_size)."
    )
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


MIN_AUTO_SHARD_SIZE = 50
SHARDS_PER_SLOT = 4


def auto_shard_size(n_cases: int, max_parallel: int = MAX_PARALLEL_SHARDS) -> int:
    """Cases per shard when none is given: 50, or more so a run has about 4 shards per parallel slot.

    Each shard is a Prefect task run with its own API client, agent session and state changes, a
    fixed cost that hundreds of small shards multiply; a few shards per slot still spread the work
    over threads or Dask workers and keep each shard's progress and memory small.
    """
    return max(MIN_AUTO_SHARD_SIZE, -(-n_cases // (SHARDS_PER_SLOT * max(1, max_parallel))))


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


def new_run(
    run_id: str | None,
    suite: Suite,
    version: str,
    baseline_version: str | None,
    trials: int,
    labels: dict[str, str | None],
    previous: RunResult | None = None,
) -> RunResult:
    """The run's record before any trial: new, or the resumed run's identity (version, trials, start)."""
    return RunResult(
        run_id=run_id or uuid.uuid4().hex[:12],
        suite=suite.name,
        suite_version=suite.version,
        agent_version=previous.agent_version if previous else version,
        baseline_version=baseline_version,
        trials=previous.trials if previous else trials,
        started_at=previous.started_at if previous else datetime.now(UTC),
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        labels={k: v for k, v in labels.items() if v},
    )


@dataclass(frozen=True)
class ShardPlan:
    """How a run's trials go out: its shards, how many at once, and what each shard runs with."""

    shards: list[Shard]
    parallel: int
    per_shard: int
    agent: AgentConfig
    database_url: str
    tools: str | None
    resume: bool
    redaction: RedactionConfig
    inline_contracts: bool = True


def replay_shards(run: RunResult, plan: ShardPlan, tracker: ProgressArtifact) -> list[ShardOutcome]:
    """Submit every shard in a sliding window (`plan.parallel` at once) and wait for them all, in order."""
    # Futures of ShardOutcome; Prefect's stubs type an async task's future by its coroutine.
    futures: list[PrefectFuture[Any]] = []
    for i, shard in enumerate(plan.shards):
        # Shard i starts when shard i - parallel is done, whatever its outcome.
        after = [allow_failure(futures[i - plan.parallel])] if i >= plan.parallel else []
        futures.append(
            replay_shard.submit(
                shard.index,
                shard.model_dump_json(),
                plan.agent,
                run.trials,
                plan.per_shard,
                run.run_id,
                plan.database_url,
                plan.tools,
                plan.resume,
                plan.redaction,
                plan.inline_contracts,
                wait_for=after,
                return_state=False,  # Prefect's typed overloads with wait_for need it said
            )
        )
    with progress.listening(run.run_id, tracker.advance):
        return wait_with_progress(futures, tracker, [len(shard.cases) * run.trials for shard in plan.shards])


def baseline_comparison(
    run: RunResult, summaries: list[CaseSummary], baseline_version: str, database_url: str, alpha: float
) -> Comparison | None:
    """The comparison with the baseline, or one that says why none could be made (the gate then fails)."""
    try:
        return compare(unwalked(run), unwalked(summaries), baseline_version, database_url, alpha)
    except db.ResultsDatabaseError as exc:
        # The results are safe in the spool; the gate must not pass on a comparison never made.
        get_run_logger().error("baseline comparison impossible: %s", exc)
        return Comparison(baseline_run_id="", baseline_version=baseline_version, error=str(exc))


def with_results(run: RunResult, outcomes: list[ShardOutcome], comparison: Comparison | None) -> RunResult:
    """The run with its cases, reliability, comparison and the workers its shards ran on."""
    summaries = [summary for outcome in outcomes for summary in outcome.summaries]
    pass_at_1, pass_hat_k = suite_reliability(summaries)
    return run.model_copy(
        update={
            "cases": summaries,
            "pass_at_1": pass_at_1,
            "pass_hat_k": pass_hat_k,
            "comparison": comparison,
            "shard_workers": sorted({o.worker for o in outcomes}),
            "finished_at": datetime.now(UTC),
        }
    )


def publish_and_notify(run: RunResult, notify: bool, database_url: str) -> RunResult:
    """Artifacts and the HTML report, then Slack when asked (and configured); its outcome joins the
    result, not the verdict."""
    publish_artifacts(unwalked(run), flow_run.ui_url)
    report_url = publish_report(unwalked(run), database_url)
    if not notify:
        return run
    message = render_run_message(run, flow_run.ui_url, report_url)
    notification = notify_slack(message)
    publish_message_link(message, notification)
    return run if notification.skipped else run.model_copy(update={"notifications": [notification]})


def agent_report(
    target: ResolvedAgent, agent_config: AgentConfig, redaction: RedactionConfig
) -> tuple[list[str], str | None]:
    """What the run keeps about the agent itself, each also logged: tool calls the gateway could not
    attribute to a conversation (warnings), and the last of what its process printed, redacted."""
    logger = get_run_logger()
    warnings = target.gateway.app.warnings() if target.gateway else []
    for warning in warnings:
        logger.warning(warning)
    if target.process is None:
        return warnings, None
    printed = Redactor(redaction, secret_values(agent_config)).text(target.process.output.text())
    if printed:
        logger.info("the agent printed (the last %d characters):\n%s", len(printed), printed)
    return warnings, printed
