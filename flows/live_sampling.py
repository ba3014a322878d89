"""The live sampling flow: watch production health per task type from a stream of traces.

It reads like the diagram in DESIGN.md::

    trace source ─► sample ─► score (checks, judge) ─► review ─► health metrics ─► anomalies
        ─► results DB ─► promote rejected ─► artifacts ─► notify
"""

import uuid
from datetime import UTC, datetime

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from trailcheck import db
from trailcheck.analysis.verdict import EmptySource
from trailcheck.checks.anomaly import AnomalyPolicy
from trailcheck.checks.judge import JudgeConfig
from trailcheck.checks.live_scoring import DEFAULT_RISKY_CHECKS
from trailcheck.checks.provenance import TaintPolicy
from trailcheck.loading.inventory import load_inventory
from trailcheck.models.health import LiveRunResult
from trailcheck.models.live import ReviewDecision
from trailcheck.models.sampling import SamplingPolicy
from trailcheck.redaction import RedactionConfig, Redactor
from trailcheck.tasks.live import (
    anomalies,
    default_source,
    health_windows,
    notifiers_for,
    notify,
    persist,
    promote_rejected,
    publish,
    read_and_sample,
    score,
    with_stored_windows,
)
from trailcheck.tasks.live_run import judge_label, reading_window, source_key, summarize
from trailcheck.tasks.review import review_traces
from trailcheck.tasks.run_setup import tag_flow_run
from trailcheck.tasks.run_state import real_trigger, settle_live
from trailcheck.tasks.unwalked import unwalked


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
    inventory: str | None = None,
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
    inventory: a tool inventory (tools.yaml) whose `trusted` and `side_effects` flags decide what
        injection_followed and injection_seen judge (default: every tool untrusted, side effects
        guessed from tool names).
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
    # A broken inventory is refused before anything is read, too.
    taint = TaintPolicy.from_inventory(load_inventory(inventory).inventory) if inventory else None
    judge = JudgeConfig.from_env() if use_judge else None
    result = LiveRunResult(
        run_id=run_id or uuid.uuid4().hex[:12],
        source=source,
        started_at=datetime.now(UTC),
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        flow_run_url=flow_run.ui_url,
        judge=judge_label(judge, use_judge),
    )
    # From the scheduled time, not the start: runs of a schedule then read slices that tile.
    since, until = reading_window(since, until, lookback_s, flow_run.scheduled_start_time)
    outcome = read_and_sample(source, sampling or SamplingPolicy(), window_s, max_bad_records, since, until)
    # unwalked(): Prefect must not walk tens of thousands of sampled traces looking for futures.
    scored = score(
        unwalked(outcome.sample),
        checks,
        judge,
        review_below,
        sorted(risky_checks if risky_checks is not None else DEFAULT_RISKY_CHECKS),
        taint,
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
    found = anomalies(unwalked(windows), window_s, anomaly_policy or AnomalyPolicy(), url)
    result = summarize(result, outcome, scored, windows, found, reviews, reviewing=review)
    if promote_to and result.rejected:
        result.promoted = promote_rejected(unwalked(outcome), unwalked(scored), promote_to)
    result.finished_at = datetime.now(UTC)
    # What is stored, shown and posted quotes production traffic: redacted like every trial.
    result = Redactor(RedactionConfig.from_env()).model(result)
    persist(result, unwalked(outcome), unwalked(scored), reviews, url)
    publish(result, source_key(source))
    notify(result, notifiers)
    logger.info("live run %s: read %d, sampled %d, %d anomalies", result.run_id, result.read, result.sampled,
                len(result.anomalies))  # fmt: skip
    # Prefect ends the run in the returned state; a caller in-process gets its data (the result).
    return settle_live(result, on_empty_source)  # type: ignore[return-value]
