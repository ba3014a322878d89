"""Tasks that write a run's record and look up its baseline in the results database."""

from prefect import task
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.comparison import DEFAULT_ALPHA, compare_with_baseline, regressed_case_ids
from trailcheck.models import CaseSummary, Comparison, RunResult

# The baseline label that means "the newest completed run of this suite that passed its gate".
LAST_ACCEPTED = "last-accepted"


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
    run: RunResult,
    summaries: list[CaseSummary],
    baseline_version: str,
    database_url: str,
    alpha: float = DEFAULT_ALPHA,
) -> Comparison | None:
    """Compare with the baseline run of the same suite (None if there is none yet).

    The baseline is the last completed run on `baseline_version`, or with `last-accepted` the
    last completed run, of any version, that passed its gate. Only the regressed cases'
    trajectories are read back, to locate where each one diverged.
    """
    engine = db.get_engine(database_url)
    if baseline_version == LAST_ACCEPTED:
        baseline = db.latest_accepted_run(engine, run.suite, exclude_run_id=run.run_id)
    else:
        baseline = db.latest_run(engine, run.suite, agent_version=baseline_version, exclude_run_id=run.run_id)
    if baseline is None:
        return None
    regressed = regressed_case_ids(baseline.cases, summaries, alpha)
    return compare_with_baseline(
        baseline,
        summaries,
        db.load_case_results(engine, baseline.run_id, regressed) if regressed else [],
        db.load_case_results(engine, run.run_id, regressed) if regressed else [],
        alpha,
    )
