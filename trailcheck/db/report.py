"""Read what the HTML report of a run draws from the results database (`ReportData`)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from trailcheck.db import live as live_db
from trailcheck.db.repository import get_run, list_runs
from trailcheck.models import RunResult
from trailcheck.models.report import ReportData

HISTORY_RUNS = 200
HEALTH_WINDOW_S = 3600


class ReportSourceError(LookupError):
    """Nothing to report on: the run or the suite is not in the results database."""


def _newest(engine: Engine, suite: str) -> RunResult | None:
    runs = list_runs(engine, suite, limit=1)
    return runs[0] if runs else None


def gather_report(
    engine: Engine,
    run_id: str | None = None,
    suite: str | None = None,
    days: int = 30,
    now: datetime | None = None,
) -> ReportData:
    """The report of run `run_id`, or of the newest run of `suite`, with `days` of live health beside it.

    The fault matrix is the newest run of ``<suite>-faults`` (`trailcheck faults`); the retention
    curve the newest run of ``<suite>-long-session`` (`trailcheck long-session`).
    """
    run = None
    if run_id:
        run = get_run(engine, run_id)
        if run is None:
            raise ReportSourceError(f"no run {run_id!r} in the results database")
        suite = run.suite
    if not suite:
        raise ReportSourceError("name a run id or a suite")
    history = sorted(list_runs(engine, suite, limit=HISTORY_RUNS), key=lambda r: r.started_at)
    if run is None:
        if not history:
            raise ReportSourceError(f"no run of suite {suite!r} in the results database")
        run = history[-1]
    baseline = None
    if run.comparison is not None and run.comparison.baseline_run_id:
        baseline = get_run(engine, run.comparison.baseline_run_id)
    since = (now or datetime.now(UTC)) - timedelta(days=days)
    return ReportData(
        suite=suite,
        generated_at=now or datetime.now(UTC),
        run=run,
        history=history,
        baseline=baseline,
        fault_run=_newest(engine, f"{suite}-faults"),
        retention_run=_newest(engine, f"{suite}-long-session"),
        windows=live_db.load_windows(engine, HEALTH_WINDOW_S, since=since),
        anomalies=live_db.load_recent_anomalies(engine, since),
    )
