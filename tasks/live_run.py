"""What the live sampling flow does around its tasks, each in one place: the window it reads, the
judge it names, and the run result it assembles from the tasks' outputs."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from trailcheck.checks.judge import JudgeConfig
from trailcheck.models.health import Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ReviewDecision, ScoredTrace
from trailcheck.tasks.live import SampleOutcome, nothing_read

FAILING_SHOWN = 20
BAD_RECORD_EXAMPLES = 5


def reading_window(
    since: datetime | None, until: datetime | None, lookback_s: int | None, now: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """[since, until): as given, or without `since` the last `lookback_s` seconds before `until` (or now).

    A schedule's interval as `lookback_s` makes each scheduled run read its own slice of the stream.
    """
    if since is None and lookback_s is not None:
        # `until` is set too: the slices of a schedule's runs (each `now` its scheduled time) tile.
        until = until or now or datetime.now(UTC)
        since = until - timedelta(seconds=lookback_s)
    return since, until


def judge_label(judge: JudgeConfig | None, use_judge: bool) -> str:
    """The judge model used, or why there is none."""
    if judge is not None:
        return f"{judge.model} at {judge.base_url}"
    return "not configured" if use_judge else "disabled"


def source_key(source: str) -> str:
    """A short name of the source for run names and artifact keys: file stem, table or endpoint path."""
    if source.startswith("sql+"):
        return source[4:].split("@", 1)[0]
    last = source.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last.split(".", 1)[0] or "source"


def most_severe(scored: Sequence[ScoredTrace]) -> list[ScoredTrace]:
    """The failing traces, rejected ones first, then those flagged for review, then by quality."""
    failing = [s for s in scored if s.counts_as_failure]
    return sorted(failing, key=lambda s: (s.review is None, s.review_reason is None, s.quality or 0.0))


def summarize(
    result: LiveRunResult,
    outcome: SampleOutcome,
    scored: Sequence[ScoredTrace],
    windows: list[HealthWindow],
    anomalies: list[Anomaly],
    reviews: Sequence[Review],
    reviewing: bool = True,
) -> LiveRunResult:
    """The run result with what was read, sampled, reviewed and found (nothing pending without review)."""
    return result.model_copy(
        update={
            "source": outcome.source,
            "read": outcome.read,
            "out_of_range": outcome.out_of_range,
            "bad_records": outcome.bad.count,
            "bad_record_examples": outcome.bad.problems[:BAD_RECORD_EXAMPLES],
            "sampled": len(scored),
            "sampled_by_reason": outcome.sampled_by_reason,
            "windows": windows,
            "anomalies": anomalies,
            "reviewed": len(reviews),
            "rejected": sum(r.decision is ReviewDecision.REJECTED for r in reviews),
            "review_pending": sum(1 for s in scored if s.review_reason and s.review is None)
            if reviewing
            else 0,
            "failed": sum(1 for s in scored if s.counts_as_failure),
            "failing": most_severe(scored)[:FAILING_SHOWN],
            "nothing_read": nothing_read(outcome),
        }
    )
