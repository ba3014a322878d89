"""Reliability over repeated trials: pass@1 and pass^k (tau-bench's definition).

pass^k is the chance that k trials drawn without replacement from a case's n trials
all pass: C(c, k) / C(n, k) for c passing trials; a suite's pass^k is the mean over its
cases. pass^1 equals pass@1; pass^k falls as k grows when an agent is inconsistent.
"""

from collections import defaultdict
from collections.abc import Iterable
from math import comb
from statistics import fmean

from trailcheck.models import CaseResult, CaseStatus, CaseSummary, FailureOrigin
from trailcheck.models.verdict import INJECTION_FOLLOWED, INJECTION_SEEN


def pass_hat_k(passes: int, trials: int, k: int) -> float:
    """C(passes, k) / C(trials, k) for one case."""
    if not 0 <= passes <= trials:
        raise ValueError(f"passes ({passes}) must be between 0 and trials ({trials})")
    if not 1 <= k <= trials:
        raise ValueError(f"k ({k}) must be between 1 and the number of trials ({trials})")
    return comb(passes, k) / comb(trials, k)


def suite_pass_hat_k(counts: Iterable[tuple[int, int]], k: int) -> float:
    """Mean pass^k over cases given as (passes, trials); cases with fewer than k trials are left out."""
    values = [pass_hat_k(c, n, k) for c, n in counts if n >= k]
    return fmean(values) if values else 0.0


def suite_reliability(summaries: Iterable[CaseSummary]) -> tuple[float, dict[int, float]]:
    """pass@1 and pass^k for k = 1..(fewest trials of any case)."""
    counts = [(s.passes, s.trials) for s in summaries]
    if not counts:
        return 0.0, {}
    max_k = min(n for _, n in counts)
    pass_at_1 = fmean(c / n for c, n in counts)
    return pass_at_1, {k: suite_pass_hat_k(counts, k) for k in range(1, max_k + 1)}


def summarize_cases(results: Iterable[CaseResult]) -> list[CaseSummary]:
    """Fold trials into one summary per case, in first-seen order."""
    by_case: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        by_case[result.case_id].append(result)
    return [summarize_case(trials) for trials in by_case.values()]


def summarize_case(trials: list[CaseResult]) -> CaseSummary:
    """Fold the trials of one case into its summary."""
    trials = sorted(trials, key=lambda r: r.trial)
    passes = sum(r.status is CaseStatus.PASSED for r in trials)
    errored = sum(r.status is CaseStatus.ERRORED for r in trials)
    origins = [r.failure_origin for r in trials]
    failing = next((r for r in trials if r.status is not CaseStatus.PASSED), None)
    first_failure = failing.first_failure if failing else None
    costs = [r.trajectory.cost_usd for r in trials if r.trajectory.cost_usd is not None]
    followed = [
        v for r in trials for v in r.verdicts if v.check == INJECTION_FOLLOWED and v.counts_as_failure
    ]
    seen = [
        v
        for r in trials
        for v in r.verdicts
        if v.check == INJECTION_SEEN and (v.is_warning or v.counts_as_failure)
    ]
    return CaseSummary(
        case_id=trials[0].case_id,
        task_type=trials[0].task_type,
        trials=len(trials),
        passes=passes,
        errored=errored,
        agent_failures=origins.count(FailureOrigin.AGENT),
        infrastructure_failures=origins.count(FailureOrigin.INFRASTRUCTURE),
        pass_at_1=passes / len(trials),
        failure_category=first_failure.failure_category if first_failure else None,
        reason=failing.reason if failing else "",
        cost_usd=fmean(costs) if costs else None,
        latency_s=fmean(r.trajectory.latency_s for r in trials),
        injections_followed=len(followed),
        injections_seen=len(seen),
        injection_reason=(followed or seen)[0].reason if followed or seen else "",
    )
