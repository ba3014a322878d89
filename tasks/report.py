"""Write a run's HTML report to a folder, and link it from the run's artifacts and its Slack message.

Reports go to ``$TRAILCHECK_REPORT_DIR`` (default ``<$TRAILCHECK_HOME>/reports``). Set
``$TRAILCHECK_REPORT_BASE_URL`` when that folder is served (a static web server, a bucket): links
then point there; otherwise they are file:// links, which work on the machine that ran the flow.
``$TRAILCHECK_HTML_REPORTS=off`` stops flows writing them (a report inlines plotly.js, about 5 MB);
the newest `KEEP_REPORTS` of each suite are kept.
"""

import os
import re
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_link_artifact
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.db.report import gather_report
from trailcheck.home import trailcheck_home
from trailcheck.models import RunResult
from trailcheck.render.html_report import render_html_report
from trailcheck.tasks.publish import artifact_key

REPORT_DIR_ENV = "TRAILCHECK_REPORT_DIR"
REPORT_BASE_URL_ENV = "TRAILCHECK_REPORT_BASE_URL"
REPORTS_SWITCH_ENV = "TRAILCHECK_HTML_REPORTS"
KEEP_REPORTS = 30


def report_dir() -> Path:
    """Where reports are written when no folder is given."""
    return Path(os.environ.get(REPORT_DIR_ENV) or trailcheck_home() / "reports").expanduser().resolve()


def write_report(
    database_url: str | None, out_dir: Path, run_id: str | None = None, suite: str | None = None
) -> Path:
    """Render the report of `run_id` (or of the newest run of `suite`) into `out_dir`; returns the file."""
    data = gather_report(db.get_engine(database_url), run_id=run_id, suite=suite)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{data.suite}-{data.run.run_id if data.run else 'latest'}")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.html"
    path.write_text(render_html_report(data), encoding="utf-8")
    return path


def prune_reports(folder: Path, suite_prefix: str, keep: int = KEEP_REPORTS) -> int:
    """Delete all but the newest `keep` reports of a suite in `folder`; returns how many went."""
    reports = sorted(folder.glob(f"{suite_prefix}-*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in reports[keep:]:
        old.unlink(missing_ok=True)
    return max(0, len(reports) - keep)


def report_link(path: Path) -> str:
    """The link to a written report: under $TRAILCHECK_REPORT_BASE_URL when set, else file://."""
    base = os.environ.get(REPORT_BASE_URL_ENV)
    return f"{base.rstrip('/')}/{path.name}" if base else path.as_uri()


@task(name="publish-html-report", cache_policy=NO_CACHE)
def publish_report(run: RunResult, database_url: str) -> str | None:
    """Write the run's HTML report and add a link artifact to it; the link, or None if it failed.

    A report that cannot be written is logged and skipped: it never changes the run's verdict.
    """
    if os.environ.get(REPORTS_SWITCH_ENV, "on").lower() in ("off", "0", "false", "no"):
        return None
    try:
        path = write_report(database_url, report_dir(), run_id=run.run_id)
        prune_reports(path.parent, path.name.rsplit("-", 1)[0])
        link = report_link(path)
    except Exception as exc:  # the report is a view of results already recorded; losing it loses nothing
        get_run_logger().warning("HTML report of run %s not written: %s", run.run_id, exc)
        return None
    create_link_artifact(
        link=link,
        link_text=f"HTML report of {run.suite} on {run.agent_version}",
        key=artifact_key("regression", run.suite, "report"),
        description="Pass rate and cost over time, per case vs baseline, fault matrix, retention, health",
    )
    return link
