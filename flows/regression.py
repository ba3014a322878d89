"""The regression flow: load a suite, replay it against an agent, score, persist, compare, publish.

It reads like the diagram in DESIGN.md::

    suite ─► shards ─► replay (agent adapter) ─► checks ─► results DB ─► compare with baseline
                                                                 ─► artifacts ─► Slack

Deployments run it nightly and on `trailcheck.agent.changed` events (prefect.yaml); the event's
model, prompt version and agent URL arrive as parameters and are recorded as the run's labels.
"""

import uuid
from datetime import UTC, datetime
from typing import Any

from prefect import allow_failure, flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run

from trailcheck import db
from trailcheck.agents.config import GatewaySettings
from trailcheck.agents.targets import resolve_agent
from trailcheck.analysis.comparison import DEFAULT_ALPHA
from trailcheck.analysis.reliability import suite_reliability
from trailcheck.analysis.verdict import FailRunOn
from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import Comparison, RunResult
from trailcheck.redaction import RedactionConfig
from trailcheck.render import progress
from trailcheck.render.slack_regression import render_run_message
from trailcheck.tasks.notify import notify_slack
from trailcheck.tasks.publish import ProgressArtifact, artifact_key, publish_artifacts, publish_message_link
from trailcheck.tasks.record import compare, finish_run, flush_spooled, start_run
from trailcheck.tasks.replay import make_shards, replay_shard
from trailcheck.tasks.report import publish_report
from trailcheck.tasks.run_setup import (
    MAX_PARALLEL_SHARDS,
    PROGRESS_EVERY_S,
    RunSettings,
    plan_parallelism,
    resumable_run,
    shard_task_runner,
    spool_summary,
    tag_flow_run,
    version_label,
    wait_with_progress,
)
from trailcheck.tasks.run_state import real_trigger, settle_verdict
from trailcheck.tasks.unwalked import unwalked


def _run_name() -> str:
    params = flow_run.parameters
    label = version_label(
        str(params.get("agent", "agent")),
        params.get("agent_version") or None,
        params.get("model") or None,
        params.get("prompt_version") or None,
    )
    stem = str(params.get("suite", "suite")).rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    return f"regression-{stem}-{label}"


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
    tools: str | None = None,
    gateway: GatewaySettings | None = None,
    model: str | None = None,
    prompt_version: str | None = None,
    trigger: str = "manual",
    alpha: float = DEFAULT_ALPHA,
    notify: bool = True,
    resume: bool = False,
    redaction: RedactionConfig | None = None,
    retries: int | None = None,
    contract_checks: bool = True,
    fail_run_on: FailRunOn = FailRunOn.REGRESSION_OR_FAILURE,
) -> RunResult:
    """Replay `suite` against `agent` `trials` times per case and record the result.

    agent: reference:v1, an http(s) URL, python:module:function or an agent YAML file.
    agent_version: the label runs are recorded and compared under (default: model@prompt_version
    when those are given, else derived from `agent`).
    baseline_version: compare with the last completed run of this suite on that version, or
    `last-accepted` for the last completed run that passed its gate.
    max_parallel_shards: shards in flight at once (raise it to the worker count of a Dask cluster).
    tools: an integration inventory (tools.yaml): every recorded tool call is checked inline against it,
        the gateway names calls by its routes, and its schema_break fault breaks the tools' contracts.
    gateway: start a tool gateway in front of the agent's tools (the reference agent gets one by
        itself when a case declares faults or fixtures).
    model, prompt_version, trigger: what the run is about (a change event fills them), recorded
    as the run's labels and as flow-run tags.
    alpha: family-wise false-alarm rate of the regression verdict against the baseline.
    notify: post the result to Slack when Slack is configured (see trailcheck.slack).
    resume: go on with run `run_id` (killed midway): only the trials it has not stored run again.
    redaction: patterns redacted from trace content before it is stored (default: from the environment).
    retries: tries again trials whose agent could not be reached (default: the agent config's, else 0).
    contract_checks: judge every tool call inline against `tools` (the fault matrix turns it off: its
        schema_break faults break the contracts on purpose, and it judges how the agent copes).
    fail_run_on: which verdicts end the flow run Failed, its message the verdict line (see
        trailcheck.tasks.run_state); called in-process, such a run raises VerdictFailedRun(run).
    """
    settings = RunSettings(
        trials=trials,
        concurrency=concurrency,
        shard_size=shard_size,
        max_parallel_shards=max_parallel_shards,
        alpha=alpha,
    )
    logger = get_run_logger()
    url = db.database_url(database_url)
    loaded = load_checked_suite(suite)
    # Refuse a broken inventory before anything runs; the gateway breaks its contracts for schema_break.
    inventory = load_inventory(tools) if tools else None
    label = version_label(agent, agent_version or None, model or None, prompt_version or None)
    trigger = real_trigger(trigger)
    labels = {"agent": agent, "model": model, "prompt_version": prompt_version, "trigger": trigger}
    tag_flow_run([f"suite:{loaded.name}", f"version:{label}", f"trigger:{trigger}"])
    flushed = flush_spooled(url)
    if flushed:
        logger.info("wrote %d record(s) that earlier runs had spooled while the database was down", flushed)
    previous = resumable_run(url, run_id, loaded.name) if resume else None
    needs_gateway = any(case.faults or case.fixtures for case in loaded.cases)
    with resolve_agent(agent, label, gateway, needs_gateway, inventory) as target:
        run = RunResult(
            run_id=run_id or uuid.uuid4().hex[:12],
            suite=loaded.name,
            suite_version=loaded.version,
            agent_version=previous.agent_version if previous else target.version,
            baseline_version=baseline_version,
            trials=previous.trials if previous else settings.trials,
            started_at=previous.started_at if previous else datetime.now(UTC),
            flow_run_id=str(flow_run.id) if flow_run.id else None,
            labels={k: v for k, v in labels.items() if v},
        )
        agent_config = (
            target.config if retries is None else target.config.model_copy(update={"retries": retries})
        )
        started = start_run(run, url)
        shards = make_shards(loaded.cases, settings.shard_size)
        parallel, per_shard = plan_parallelism(
            len(shards), settings.concurrency, settings.max_parallel_shards
        )
        logger.info(
            "run %s: %d cases x %d trials in %d shards (%d at once, %d cases each)",
            run.run_id, len(loaded.cases), run.trials, len(shards), parallel, per_shard,
        )  # fmt: skip
        tracker = ProgressArtifact(
            artifact_key("regression", loaded.name, "progress"),
            total=len(loaded.cases) * run.trials,
            description=f"{loaded.name} on {target.version}: trials done",
            every_s=PROGRESS_EVERY_S,
        )
        redact = redaction or RedactionConfig.from_env()
        # Futures of ShardOutcome; Prefect's stubs type an async task's future by its coroutine.
        futures: list[PrefectFuture[Any]] = []
        for i, shard in enumerate(shards):
            # A sliding window: shard i starts when shard i - parallel is done, whatever its outcome.
            after = [allow_failure(futures[i - parallel])] if i >= parallel else []
            futures.append(
                replay_shard.submit(
                    shard.index,
                    shard.model_dump_json(),
                    agent_config,
                    run.trials,
                    per_shard,
                    run.run_id,
                    url,
                    tools if contract_checks else None,
                    resume,
                    redact,
                    wait_for=after,
                    return_state=False,  # Prefect's typed overloads with wait_for need it said
                )
            )
        with progress.listening(run.run_id, tracker.advance):
            outcomes = wait_with_progress(
                futures, tracker, [len(shard.cases) * run.trials for shard in shards]
            )
    summaries = [summary for outcome in outcomes for summary in outcome.summaries]
    workers = sorted({o.worker for o in outcomes})
    logger.info("shards ran on %s", ", ".join(workers))
    pass_at_1, pass_hat_k = suite_reliability(summaries)
    comparison = None
    if baseline_version:
        try:
            comparison = compare(unwalked(run), unwalked(summaries), baseline_version, url, settings.alpha)
        except db.ResultsDatabaseError as exc:
            # The results are safe in the spool; the gate must not pass on a comparison never made.
            logger.error("baseline comparison impossible: %s", exc)
            comparison = Comparison(baseline_run_id="", baseline_version=baseline_version, error=str(exc))
    run = run.model_copy(
        update={
            "cases": summaries, "pass_at_1": pass_at_1, "pass_hat_k": pass_hat_k, "comparison": comparison,
            "shard_workers": workers, "finished_at": datetime.now(UTC),
        }
    )  # fmt: skip
    spooled, spool_error, elsewhere = spool_summary(outcomes, started)
    run = finish_run(unwalked(run), url, spooled, spool_error, pending_elsewhere=bool(elsewhere))
    if run.spool is not None:
        logger.warning(
            "results database failed during the run: %d record(s) spooled to %s (%s)",
            run.spool.spooled, run.spool.path, "still pending" if run.spool.pending else "all written since",
        )  # fmt: skip
    publish_artifacts(unwalked(run), flow_run.ui_url)
    report_url = publish_report(unwalked(run), url)
    if notify:
        # After the run is recorded: Slack's outcome goes in the returned result, never in the verdict.
        message = render_run_message(run, flow_run.ui_url, report_url)
        notification = notify_slack(message)
        publish_message_link(message, notification)
        if not notification.skipped:
            run = run.model_copy(update={"notifications": [notification]})
    logger.info("run %s finished: pass@1 %.3f, ok=%s", run.run_id, pass_at_1, run.ok)
    # Prefect ends the run in the returned state; a caller in-process gets its data (the RunResult).
    return settle_verdict(run, fail_run_on)  # type: ignore[return-value]
