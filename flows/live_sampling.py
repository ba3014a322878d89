"""The live sampling flow: watch production health per task type from a stream of traces.

It reads like the diagram in DESIGN.md::

    trace source ─► sample ─► score (checks, judge) ─► review ─► health metrics ─► anomalies
        ─► results DB ─► promote rejected ─► artifacts ─► notify
"""

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from trailcheck import db
from trailcheck.analysis.verdict import EmptySource
from trailcheck.checks.anomaly import AnomalyPolicy
from trailcheck.checks.judge import JudgeConfig
from trailcheck.checks.live_scoring import DEFAULT_RISKY_CHECKS
from trailcheck.models.health import LiveRunResult
from trailcheck.models.live import ReviewDecision, ScoredTrace
from trailcheck.models.sampling import SamplingPolicy
from trailcheck.tasks.live import (
    anomalies,
    default_source,
    health_windows,
    nothing_read,
    notifiers_for,
    notify,
    persist,
    promote_rejected,
    publish,
    read_and_sample,
    score,
    with_stored_windows,
)
from trailcheck.tasks.review import review_traces
from trailcheck.tasks.run_state import real_trigger, settle_live, tag_flow_run

FAILING_SHOWN = 20


def most_severe(scored: list[ScoredTrace]) -> list[ScoredTrace]:
    """The failing traces, rejected ones first, then those flagged for review, then by quality."""
    failing = [s for s in scored if s.counts_as_failure]
    return sorted(failing, key=lambda s: (s.review is None, s.review_reason is None, s.quality or 0.0))


def source_key(source: str) -> str:
    """A short name of the source for run names and artifact keys: file stem, table or endpoint path."""
    if source.startswith("sql+"):
        return source[4:].split("@", 1)[0]
    last = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last.split(".", 1)[0] or "source"


def _run_name() -> str:
    return "live-" + source_key(str(flow_run.parameters.get("source") or default_source()))[:40]


@flow(name="live_sampling", flow_run_name=_run_name, log_prints=False)
def live_sampling(
    source: str | None = None,
    sampling: SamplingPolicy | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    lookback_s: int | None = None,
    window_s: int = 3600,
    checks: list[str] | None = None,
    use_judge: bool = True,
    review_below: float = 0.5,
    risky_checks: list[str] | None = None,
    review: bool = False,
    max_reviews: int = 5,
    review_timeout_s: int = 3600,
    review_default: ReviewDecision = ReviewDecision.APPROVED,
    review_poll_s: int = 10,
    anomaly_policy: AnomalyPolicy | None = None,
    promote_to: str | None = None,
    notify_to: list[str] | None = None,
    max_bad_records: int = 100,
    database_url: str | None = None,
    run_id: str | None = None,
    on_empty_source: EmptySource = EmptySource.COMPLETE,
) -> LiveRunResult:
    """Sample `source`, score the sample, update health per task type and window, flag anomalies.

    source: a JSONL file, an http(s) endpoint with cursor pages, or sql+TABLE@URL (default:
        `default_source()`, a file under $TRAILCHECK_HOME that a fresh install does not have yet).
    since, until: only traces stamped in [since, until) count (e.g. the previous hour).
    lookback_s: without `since`, count the traces of the last `lookback_s` seconds (a schedule's
        interval, so each scheduled run reads its own slice of the stream).
    checks: trace check names (checks/registry.py; all built-in ones when None).
    use_judge: judge with the LLM configured in $TRAILCHECK_JUDGE_* (skipped when none is).
    review: pause for a person's decision on traces below `review_below` or failing a risky check.
    promote_to: a suite file; traces rejected in review are appended to it as regression cases.
    notify_to: notifier names (`trailcheck.tasks.live.notifiers_for`); default ["slack"], [] for none.
    on_empty_source: a missing or empty source ends the run Completed (nothing to sample) or Failed.
    """
    logger = get_run_logger()
    source = source or default_source()
    tag_flow_run([f"trigger:{real_trigger('manual')}"])
    url = db.database_url(database_url)
    # Slack by default (it says so and skips when not configured); [] for none. Unknown names are refused
    # before anything is read.
    notifiers = notifiers_for(["slack"] if notify_to is None else notify_to)
    judge = JudgeConfig.from_env() if use_judge else None
    result = LiveRunResult(
        run_id=run_id or uuid.uuid4().hex[:12],
        source=source,
        started_at=datetime.now(UTC),
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        flow_run_url=flow_run.ui_url,
        judge=f"{judge.model} at {judge.base_url}"
        if judge
        else ("disabled" if not use_judge else "not configured"),
    )
    if since is None and lookback_s is not None:
        # From the scheduled time, not the start: runs of a schedule then read slices that tile.
        until = until or flow_run.scheduled_start_time or datetime.now(UTC)
        since = until - timedelta(seconds=lookback_s)
    outcome = read_and_sample(source, sampling or SamplingPolicy(), window_s, max_bad_records, since, until)
    # quote(): Prefect must not walk tens of thousands of sampled traces looking for futures.
    scored = score(
        quote(outcome.sample),
        checks,
        judge,
        review_below,
        sorted(risky_checks if risky_checks is not None else DEFAULT_RISKY_CHECKS),
    )
    reviews = (
        review_traces(
            scored,
            outcome.sample,
            max_reviews=max_reviews,
            timeout_s=review_timeout_s,
            default=review_default,
            poll_interval_s=review_poll_s,
        )
        if review
        else []
    )
    windows = with_stored_windows(health_windows(outcome, scored), url)
    found = anomalies(quote(windows), window_s, anomaly_policy or AnomalyPolicy(), url)
    result = result.model_copy(
        update={
            "source": outcome.source,
            "read": outcome.read,
            "out_of_range": outcome.out_of_range,
            "bad_records": outcome.bad.count,
            "bad_record_examples": outcome.bad.problems[:5],
            "sampled": len(scored),
            "sampled_by_reason": outcome.sampled_by_reason,
            "windows": windows,
            "anomalies": found,
            "reviewed": len(reviews),
            "rejected": sum(r.decision is ReviewDecision.REJECTED for r in reviews),
            "review_pending": sum(1 for s in scored if s.review_reason and s.review is None) if review else 0,
            "failed": sum(1 for s in scored if s.counts_as_failure),
            "failing": most_severe(scored)[:FAILING_SHOWN],
            "nothing_read": nothing_read(outcome),
        }
    )
    if promote_to and result.rejected:
        result.promoted = promote_rejected(quote(outcome), quote(scored), promote_to)
    result.finished_at = datetime.now(UTC)
    persist(result, quote(outcome), quote(scored), reviews, url)
    publish(result, source_key(source))
    notify(result, notifiers)
    logger.info("live run %s: read %d, sampled %d, %d anomalies", result.run_id, result.read, result.sampled,
                len(result.anomalies))  # fmt: skip
    # Prefect ends the run in the returned state; a caller in-process gets its data (the result).
    return settle_live(result, on_empty_source)  # type: ignore[return-value]
