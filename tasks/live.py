"""Prefect tasks of live sampling: read and sample, score, detect, persist, promote, publish, notify."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.analysis.health import HealthAccumulator, merge_increments
from trailcheck.analysis.promote import append_case, case_from_trace
from trailcheck.analysis.sampling import SampledTrace, Sampler
from trailcheck.checks.anomaly import AnomalyPolicy, detect_anomalies
from trailcheck.checks.judge import JudgeConfig
from trailcheck.checks.live_scoring import ScoringPolicy, score_sample
from trailcheck.checks.provenance import TaintPolicy
from trailcheck.checks.registry import resolve, trace_checks
from trailcheck.db import live as live_db
from trailcheck.home import trailcheck_home
from trailcheck.loading.sources import BadRecords, TraceSourceMissing, open_source
from trailcheck.models.health import Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ScoredTrace
from trailcheck.models.sampling import SamplingPolicy
from trailcheck.redaction import RedactionConfig, Redactor
from trailcheck.render.markdown_live import render_live_summary, task_type_rows
from trailcheck.tasks.publish import artifact_key


@dataclass
class SampleOutcome:
    """What reading the source gave: the sample, the traffic aggregated per window, the bad records."""

    sample: list[SampledTrace]
    health: HealthAccumulator
    read: int
    sampled_by_reason: dict[str, int]
    bad: BadRecords
    source: str
    out_of_range: int = 0
    missing: str | None = None


def default_source() -> str:
    """Where live sampling reads when no source is given: ``<$TRAILCHECK_HOME>/traces/production.jsonl``."""
    return str(trailcheck_home() / "traces" / "production.jsonl")


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def sample_source(
    source: str,
    policy: SamplingPolicy,
    window_s: int,
    max_bad: int = 100,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SampleOutcome:
    """Stream the source once: every trace counts in the traffic metrics, the sampler keeps the sample.

    With `since`/`until`, traces stamped outside [since, until) are skipped and counted (the filter
    runs here, on every source; traces without a timestamp are kept) and pushed down to the sources
    that can filter where the traces are, so a 15-minute window reads 15 minutes). Memory holds the sample and
    the per-window counters, never the stream (bench/live.py measures it).
    """
    stream = open_source(source, max_bad=max_bad, since=since, until=until)
    sampler = Sampler(policy)
    health = HealthAccumulator(window_s)
    sample: list[SampledTrace] = []
    low, high = (_aware(since) if since else None), (_aware(until) if until else None)
    out_of_range = 0
    missing = None
    try:
        for trace in stream:
            if trace.timestamp is not None and (low or high):
                ts = _aware(trace.timestamp)
                if (low and ts < low) or (high and ts >= high):
                    out_of_range += 1
                    continue
            health.add_trace(trace)
            chosen = sampler.offer(trace)
            if chosen is not None:
                sample.append(chosen)
    except TraceSourceMissing as exc:
        # A source not written yet (a fresh deployment) is "nothing to read", not a crash.
        missing = str(exc)
    sample.extend(sampler.finish())
    return SampleOutcome(
        sample=sample,
        health=health,
        read=sampler.stats.read,
        sampled_by_reason={str(k): v for k, v in sorted(sampler.stats.sampled_by_reason.items())},
        bad=stream.bad,
        source=stream.describe(),
        out_of_range=out_of_range,
        missing=missing,
    )


@task(name="read-and-sample", cache_policy=NO_CACHE)
def read_and_sample(
    source: str,
    policy: SamplingPolicy,
    window_s: int,
    max_bad: int,
    since: datetime | None = None,
    until: datetime | None = None,
) -> SampleOutcome:
    """`sample_source` as a Prefect task."""
    outcome = sample_source(source, policy, window_s, max_bad, since, until)
    get_run_logger().info(
        "read %d traces from %s, sampled %d", outcome.read, outcome.source, len(outcome.sample)
    )
    return outcome


@task(name="score-sample", cache_policy=NO_CACHE)
def score(
    sample: Sequence[SampledTrace],
    check_names: list[str] | None,
    judge: JudgeConfig | None,
    review_below: float,
    risky_checks: list[str],
    taint: TaintPolicy | None = None,
) -> list[ScoredTrace]:
    """Score the sample with the registry's checks (`check_names`, all when None), live checks and judge.

    `taint`: which tools are trusted and which have side effects (the inventory's flags), for the
    injection checks.
    """
    policy = ScoringPolicy(
        checks=resolve(check_names, trace_checks(taint)),
        judge=judge,
        review_below=review_below,
        risky_checks=frozenset(risky_checks),
    )
    return score_sample(sample, policy)


def health_windows(outcome: SampleOutcome, scored: Sequence[ScoredTrace]) -> list[HealthWindow]:
    """The windows with the scored uniform sample added (review decisions included)."""
    for item in scored:
        outcome.health.add_scored(item)
    return outcome.health.windows()


@task(name="merge-stored-windows", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def with_stored_windows(windows: list[HealthWindow], database_url: str) -> list[HealthWindow]:
    """The run's windows with what earlier runs stored for the same windows added (`merge_increments`)."""
    if not windows:
        return []
    stored = live_db.load_windows(
        db.get_engine(database_url),
        windows[0].window_s,
        since=min(w.window_start for w in windows),
        before=max(w.window_start for w in windows) + timedelta(seconds=1),
        task_types=sorted({w.task_type for w in windows}),
    )
    return merge_increments(stored, windows)


def nothing_read(outcome: SampleOutcome) -> str | None:
    """Why the run has nothing to score (None when it read traces): missing source, empty, out of range."""
    if outcome.read:
        return None
    if outcome.missing:
        return f"nothing to sample: {outcome.missing} (not written yet? point `source` at your trace store)"
    if outcome.out_of_range:
        return (
            f"nothing to sample: {outcome.source} has no trace in the window ({outcome.out_of_range} outside)"
        )
    return f"nothing to sample: {outcome.source} holds no traces"


@task(name="detect-anomalies", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def anomalies(
    windows: list[HealthWindow], window_s: int, policy: AnomalyPolicy, database_url: str
) -> list[Anomaly]:
    """Judge each window against the stored history before it, and the run's own earlier windows."""
    if not windows:
        return []
    first = min(w.window_start for w in windows)
    history = live_db.load_windows(
        db.get_engine(database_url),
        window_s,
        since=first - timedelta(seconds=window_s * policy.history_windows),
        before=first,
        task_types=sorted({w.task_type for w in windows}),
    )
    return detect_anomalies(windows, history, policy)


@task(name="persist-live-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def persist(
    result: LiveRunResult,
    outcome: SampleOutcome,
    scored: Sequence[ScoredTrace],
    reviews: Sequence[Review],
    database_url: str,
) -> None:
    """Write the run, its windows (the time series), scores with traces, anomalies and reviews.

    Traces and scores are redacted as trials are (`trailcheck.redaction`): production traffic
    carries keys, tokens and personal data.
    """
    engine = db.get_engine(database_url)
    redactor = Redactor(RedactionConfig.from_env())
    live_db.save_live_run(engine, redactor.model(result))
    live_db.record_windows(engine, result.run_id, result.windows)
    live_db.record_scores(
        engine,
        result.run_id,
        [
            (redactor.model(s), redactor.json_text(t.raw) if live_db.keeps_trace(s) else None)
            for s, t in zip(scored, outcome.sample, strict=True)
        ],
    )
    live_db.record_anomalies(engine, result.run_id, result.anomalies)
    live_db.record_reviews(engine, result.run_id, [redactor.model(r) for r in reviews])


@task(name="promote-rejected", cache_policy=NO_CACHE)
def promote_rejected(outcome: SampleOutcome, scored: Sequence[ScoredTrace], suite: str) -> list[str]:
    """Append a regression case to `suite` for every trace a reviewer rejected; returns the case ids."""
    logger = get_run_logger()
    promoted = []
    for item, sampled in zip(scored, outcome.sample, strict=True):
        if item.review is None or item.review.decision != "rejected":
            continue
        case = case_from_trace(sampled.trace, scored=item)
        try:
            append_case(Path(suite), case)
        except Exception as exc:  # one case that cannot be written must not lose the run's results
            logger.warning("could not promote trace %s into %s: %s", item.trace_id, suite, exc)
            continue
        promoted.append(case.id)
    return promoted


@task(name="publish-live-artifacts", cache_policy=NO_CACHE)
def publish(result: LiveRunResult, key: str) -> None:
    """The Markdown summary and the per-task-type table, keyed so the UI keeps their history."""
    create_markdown_artifact(
        markdown=render_live_summary(result),
        key=artifact_key("live", key, "summary"),
        description=f"Live sampling of {result.source}",
    )
    create_table_artifact(
        table=task_type_rows(result),
        key=artifact_key("live", key, "task-types"),
        description=f"Health per task type of {result.source}",
    )


LiveNotifier = Callable[[LiveRunResult], None]


def _post_to_slack(result: LiveRunResult) -> None:
    # Imported here: slack-sdk is only needed by runs that notify.
    from trailcheck.render.slack_live import render_live_message
    from trailcheck.tasks.notify import send_to_slack

    send_to_slack(render_live_message(result), get_run_logger())


def notifiers_for(names: Sequence[str]) -> list[LiveNotifier]:
    """The notifiers a flow run asked for by name.

    ``"slack"`` posts `render_live_message` through the same poster as regression runs (skipped,
    and said so in the log, when Slack is not configured). Unknown names are refused.
    """
    known: dict[str, LiveNotifier] = {"slack": _post_to_slack}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"unknown notifier(s) {', '.join(map(repr, unknown))}; known: {', '.join(known) or 'none'}"
        )
    return [known[n] for n in names]


@task(name="notify-live", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def notify(result: LiveRunResult, notifiers: Sequence[LiveNotifier] = ()) -> None:
    """The notification step: hands the result to each notifier, unless nothing was read."""
    logger = get_run_logger()
    if result.read == 0:
        # Every scheduled run of an idle or missing source would post the same empty message.
        logger.info("live run %s read nothing (%s): no notification", result.run_id, result.nothing_read)
        return
    for notifier in notifiers:
        notifier(result)
    logger.info(
        "live run %s: %d anomalies, %d rejected, %d notifier(s)",
        result.run_id, len(result.anomalies), result.rejected, len(notifiers),
    )  # fmt: skip
