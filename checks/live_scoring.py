"""Score sampled live traces: the registry's checks, the live checks, and the LLM judge.

A trace's quality is the judge's score when the judge ran, else the share of deterministic
checks that passed (skipped and errored ones left out). It fails when a check *failed*; a check
that crashed or a judge that could not be reached is reported as errored but is not the agent's
failure, so an outage of the judge does not look like a quality collapse. A trace goes to review
when its quality is below `review_below` or a check named in `risky_checks` failed.
"""

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from trailcheck.analysis.sampling import SampledTrace
from trailcheck.checks.judge import JudgeConfig, judge_trajectories
from trailcheck.checks.live_checks import CostOutlier, completion_verdict
from trailcheck.checks.registry import TraceCheck, score_trace
from trailcheck.models import Trace, Verdict, VerdictStatus
from trailcheck.models.live import ScoredTrace

DEFAULT_RISKY_CHECKS = frozenset({"security", "silent_error"})


@dataclass(frozen=True)
class ScoringPolicy:
    """What to run and when a person must look."""

    checks: dict[str, TraceCheck]
    judge: JudgeConfig | None = None
    review_below: float = 0.5
    risky_checks: frozenset[str] = field(default=DEFAULT_RISKY_CHECKS)


def _quality(verdicts: Sequence[Verdict]) -> float | None:
    judged = next((v for v in verdicts if v.check == "judge" and v.score is not None), None)
    if judged is not None:
        return judged.score
    ran = [v for v in verdicts if v.status in (VerdictStatus.PASSED, VerdictStatus.FAILED)]
    return sum(v.passed for v in ran) / len(ran) if ran else None


def _review_reason(verdicts: Sequence[Verdict], quality: float | None, policy: ScoringPolicy) -> str | None:
    risky = [v.check for v in verdicts if v.status is VerdictStatus.FAILED and v.check in policy.risky_checks]
    if risky:
        return f"risky check(s) failed: {', '.join(risky)}"
    if quality is not None and quality < policy.review_below:
        return f"quality {quality:.2f} < {policy.review_below:g}"
    return None


SCORING_CHUNK = 1000


def score_sample(sample: Sequence[SampledTrace], policy: ScoringPolicy) -> list[ScoredTrace]:
    """One `ScoredTrace` per sampled trace, in order.

    Traces are parsed and scored a chunk at a time, so only one chunk's trajectories are in memory.
    """
    costs: dict[str, list[float]] = {}
    for s in sample:
        if s.uniform and s.cost is not None:
            costs.setdefault(s.task_type, []).append(s.cost)
    outlier = CostOutlier.from_costs(costs)
    out: list[ScoredTrace] = []
    with _no_cyclic_gc():
        for start in range(0, len(sample), SCORING_CHUNK):
            _score_chunk(sample[start : start + SCORING_CHUNK], policy, outlier, out)
    return out


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    # Scoring makes a dozen small objects a trace and keeps the results: the cyclic collector
    # would rescan the growing result list again and again (it halved throughput, bench/live.py).
    # These objects hold no reference cycles, so reference counting frees what is dropped.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _score_chunk(
    chunk: Sequence[SampledTrace], policy: ScoringPolicy, outlier: CostOutlier, out: list[ScoredTrace]
) -> None:
    traces = [s.trace for s in chunk]
    trajectories = [t.to_trajectory() for t in traces]
    judged = judge_trajectories(trajectories, policy.judge)
    for s, trace, trajectory, judge_verdict in zip(chunk, traces, trajectories, judged, strict=True):
        verdicts = [*score_trace(trajectory, None, policy.checks), judge_verdict]
        out.append(_scored(trace, s, policy, verdicts, outlier))


def _scored(
    trace: Trace, sampled: SampledTrace, policy: ScoringPolicy, verdicts: list[Verdict], outlier: CostOutlier
) -> ScoredTrace:
    task_type = sampled.task_type
    verdicts = [*verdicts[:-1], completion_verdict(trace), outlier.verdict(trace, task_type), verdicts[-1]]
    quality = _quality(verdicts)
    failed = [v for v in verdicts if v.status is VerdictStatus.FAILED]
    return ScoredTrace(
        trace_id=trace.trace_id or f"key-{sampled.key:.12f}",
        task_type=task_type,
        timestamp=trace.timestamp,
        reasons=list(sampled.reasons),
        uniform=sampled.uniform,
        verdicts=verdicts,
        quality=quality,
        failed=bool(failed),
        failure_category=next((v.failure_category for v in failed if v.failure_category), None),
        review_reason=_review_reason(verdicts, quality, policy),
    )
