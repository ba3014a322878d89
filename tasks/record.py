"""Tasks that write a run's record and look up its baseline in the results database."""

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.analysis.comparison import DEFAULT_ALPHA, compare_with_baseline, regressed_case_ids
from trailcheck.db.spool import SpoolingWriter, flush_spool
from trailcheck.models import CaseSummary, Comparison, RunResult, SpoolReport


@task(name="flush-spool", cache_policy=NO_CACHE)
def flush_spooled(database_url: str) -> int:
    """Write what earlier runs spooled while the database was down; 0 if it is still down (kept)."""
    try:
        return flush_spool(database_url)
    except db.ResultsDatabaseError as exc:
        get_run_logger().warning("spooled results of earlier runs kept: %s", exc)
        return 0


# The baseline label that means "the newest completed run of this suite that passed its gate".
LAST_ACCEPTED = "last-accepted"


@task(name="start-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def start_run(run: RunResult, database_url: str) -> bool:
    """Record that the run started (status running), so an interrupted run is visible.

    False when the database failed and the record went to the local spool.
    """
    return SpoolingWriter(database_url, run.run_id).start_run(run)


@task(name="finish-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def finish_run(
    run: RunResult,
    database_url: str,
    spooled: int = 0,
    spool_error: str = "",
    pending_elsewhere: bool = False,
) -> RunResult:
    """Flush the run's spool, store its summary and mark it completed; the run as stored.

    When anything was spooled, the run carries a `SpoolReport` (how many, whether some are still
    pending, where); if the database is still down, the finished run is spooled too.
    """
    writer = SpoolingWriter(database_url, run.run_id)
    if spooled:
        report = SpoolReport(spooled=spooled, pending=True, path=str(writer.path), reason=spool_error)
        run = _with_spool(run, report)
        try:
            flush_spool(database_url, run.run_id)
            if not pending_elsewhere:
                run = _with_spool(run, report.model_copy(update={"pending": False}))
        except db.ResultsDatabaseError as exc:
            run = _with_spool(run, report.model_copy(update={"reason": str(exc)}))
    if not writer.finish_run(run):
        report = run.spool or SpoolReport(spooled=0, pending=True, path=str(writer.path))
        run = _with_spool(run, report.model_copy(update={"pending": True, "reason": writer.last_error}))
    return run


def _with_spool(run: RunResult, report: SpoolReport) -> RunResult:
    return run.model_copy(update={"spool": report})


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
