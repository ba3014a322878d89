"""The long-session flow: replay a long-session suite through the regression flow, then chart retention.

sessions suite ─► regression (subflow: replay, score, results DB, artifacts) ─► retention curve ─► artifact
"""

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from trailcheck.analysis.verdict import VerdictFailedRun
from trailcheck.flows.regression import regression
from trailcheck.models import RetentionReport, SessionPlan
from trailcheck.render.markdown_retention import render_markdown, retention_report, verdict_line
from trailcheck.tasks.publish import artifact_key


@task(name="publish-retention", cache_policy=NO_CACHE)
def publish_retention(report: RetentionReport) -> None:
    """The retention curve as a Markdown artifact keyed by suite (the UI keeps its history)."""
    create_markdown_artifact(
        markdown=render_markdown(report),
        key=artifact_key("long-session", report.suite, "retention"),
        description=f"{report.suite} on {report.agent_version}: {verdict_line(report)}",
    )


def _run_name() -> str:
    params = flow_run.parameters
    suite = str(params.get("suite", "suite")).rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    return f"long-session-{suite}-{params.get('agent_version') or params.get('agent', 'agent')}"


@flow(name="long-session", flow_run_name=_run_name, log_prints=False)
def long_session(
    suite: str,
    plans: list[SessionPlan],
    agent: str = "reference:v1",
    agent_version: str | None = None,
    trials: int = 3,
    concurrency: int = 8,
    threshold: float = 1.0,
    database_url: str | None = None,
    run_id: str | None = None,
) -> RetentionReport:
    """Replay `suite` (built by trailcheck.variants.long_session) and report its retention curve.

    plans: which case is which scenario at how many filler turns.
    threshold: a session length fails when its pass rate is below this (1.0: any failing trial).
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}")
    try:
        run = regression(
            suite=suite,
            agent=agent,
            agent_version=agent_version,
            trials=trials,
            concurrency=concurrency,
            database_url=database_url,
            run_id=run_id,
        )
    except VerdictFailedRun as failed:  # lengths that fail are what the retention curve is about
        run = failed.run
    report = retention_report(run, plans, threshold, flow_run.ui_url)
    publish_retention(report)
    return report
