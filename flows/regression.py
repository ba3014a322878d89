"""The regression flow: load a suite, replay it against an agent, score, persist, compare, publish.

It reads like the diagram in DESIGN.md::

    suite ─► shards ─► replay (agent adapter) ─► checks ─► results DB ─► compare with baseline
                                                                 ─► artifacts ─► Slack

Deployments run it nightly and on `trailcheck.agent.changed` events (prefect.yaml); the event's
model, prompt version and agent URL arrive as parameters and are recorded as the run's labels.
"""

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from trailcheck import db
from trailcheck.agents.config import GatewaySettings
from trailcheck.agents.targets import resolve_agent
from trailcheck.analysis.comparison import DEFAULT_ALPHA
from trailcheck.analysis.verdict import FailRunOn
from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import RunResult
from trailcheck.redaction import RedactionConfig
from trailcheck.tasks.publish import ProgressArtifact, artifact_key
from trailcheck.tasks.record import finish_run, flush_spooled, start_run
from trailcheck.tasks.replay import make_shards
from trailcheck.tasks.run_setup import (
    MAX_PARALLEL_SHARDS,
    PROGRESS_EVERY_S,
    RunSettings,
    ShardPlan,
    agent_report,
    auto_shard_size,
    baseline_comparison,
    new_run,
    plan_parallelism,
    publish_and_notify,
    replay_shards,
    resumable_run,
    shard_task_runner,
    spool_summary,
    tag_flow_run,
    version_label,
    with_results,
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
    shard_size: int | None = None,
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
    shard_size: cases per shard, one Prefect task each (None: 50, or more for a large suite; see
        `auto_shard_size`).
    max_parallel_shards: shards in flight at once (raise it to the worker count of a Dask cluster).
    tools: an integration inventory (tools.yaml): every recorded tool call is checked inline against it,
        the gateway names calls by its routes, its schema_break fault breaks the tools' contracts, and
        its `trusted` / `side_effects` flags decide what injection_followed and injection_seen judge.
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
        schema_break faults break the contracts on purpose, and it judges how the agent copes); the
        injection checks use the inventory's flags either way.
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
    tag_flow_run([f"suite:{loaded.name}", f"version:{label}", f"trigger:{trigger}"])
    if flushed := flush_spooled(url):
        logger.info("wrote %d record(s) that earlier runs had spooled while the database was down", flushed)
    previous = resumable_run(url, run_id, loaded.name) if resume else None
    needs_gateway = any(case.faults or case.fixtures for case in loaded.cases)
    with resolve_agent(agent, label, gateway, needs_gateway, inventory) as target:
        labels = {"agent": agent, "model": model, "prompt_version": prompt_version, "trigger": trigger}
        run = new_run(run_id, loaded, target.version, baseline_version, settings.trials, labels, previous)
        started = start_run(run, url)
        shard_size = settings.shard_size or auto_shard_size(len(loaded.cases), settings.max_parallel_shards)
        shards = make_shards(loaded.cases, shard_size)
        parallel, per_shard = plan_parallelism(
            len(shards), settings.concurrency, settings.max_parallel_shards
        )
        logger.info("run %s: %d cases x %d trials in %d shards (%d at once, %d cases each)",
                    run.run_id, len(loaded.cases), run.trials, len(shards), parallel, per_shard)  # fmt: skip
        config = target.config if retries is None else target.config.model_copy(update={"retries": retries})
        plan = ShardPlan(shards, parallel, per_shard, config, url, tools, resume,
                         redaction or RedactionConfig.from_env(), contract_checks)  # fmt: skip
        tracker = ProgressArtifact(
            artifact_key("regression", loaded.name, "progress"),
            len(loaded.cases) * run.trials,
            f"{loaded.name} on {target.version}: trials done",
            every_s=PROGRESS_EVERY_S,
        )
        outcomes = replay_shards(run, plan, tracker)
        warnings, agent_output = agent_report(target, config, plan.redaction)
    logger.info("shards ran on %s", ", ".join(sorted({o.worker for o in outcomes})))
    summaries = [summary for outcome in outcomes for summary in outcome.summaries]
    comparison = None
    if baseline_version:
        comparison = baseline_comparison(run, summaries, baseline_version, url, settings.alpha)
    run = with_results(run, outcomes, comparison).model_copy(
        update={"warnings": warnings, "agent_output": agent_output}
    )
    spooled, spool_error, elsewhere = spool_summary(outcomes, started)
    run = finish_run(unwalked(run), url, spooled, spool_error, pending_elsewhere=bool(elsewhere))
    if run.spool is not None:
        logger.warning(
            "results database failed during the run: %d record(s) spooled to %s (%s)",
            run.spool.spooled, run.spool.path, "still pending" if run.spool.pending else "all written since",
        )  # fmt: skip
    run = publish_and_notify(run, notify, url)
    logger.info("run %s finished: pass@1 %.3f, ok=%s", run.run_id, run.pass_at_1, run.ok)
    # Prefect ends the run in the returned state; a caller in-process gets its data (the RunResult).
    return settle_verdict(run, fail_run_on)  # type: ignore[return-value]
