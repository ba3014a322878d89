"""Tasks that write a run's record and look up its baseline in the results database."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.comparison import compare_with_baseline
from trailcheck.models import CaseResult, Comparison, RunResult


@task(name="start-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def start_run(run: RunResult, database_url: str) -> None:
    """Record that the run started (status running), so an interrupted run is visible."""
    db.start_run(db.get_engine(database_url), run)


@task(name="finish-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def finish_run(run: RunResult, database_url: str) -> None:
    """Store the run's summary, reliability and comparison, and mark it completed."""
    db.finish_run(db.get_engine(database_url), run)


@task(name="compare-with-baseline", cache_policy=NO_CACHE)
def compare(
    run: RunResult, results: list[CaseResult], baseline_version: str, database_url: str
) -> Comparison | None:
    """Compare with the last completed run of the same suite on `baseline_version` (None if none)."""
    engine = db.get_engine(database_url)
    baseline = db.latest_run(engine, run.suite, agent_version=baseline_version, exclude_run_id=run.run_id)
    if baseline is None:
        return None
    return compare_with_baseline(baseline, db.load_case_results(engine, baseline.run_id), results)
