"""Publish a run to the Prefect UI as artifacts keyed by suite, so the UI keeps their history."""

import re

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from trailcheck.models import RunResult
from trailcheck.report import case_table_rows, render_summary_markdown


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts(run: RunResult, flow_run_url: str | None = None) -> None:
    """A Markdown summary and a table of cases, both keyed by the suite."""
    create_markdown_artifact(
        markdown=render_summary_markdown(run, flow_run_url),
        key=artifact_key("regression", run.suite, "summary"),
        description=f"{run.suite} on {run.agent_version}",
    )
    create_table_artifact(
        table=case_table_rows(run),
        key=artifact_key("regression", run.suite, "cases"),
        description=f"Cases of {run.suite} on {run.agent_version}",
    )
