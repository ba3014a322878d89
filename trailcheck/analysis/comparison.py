"""Compare a run with its baseline: which cases regressed, which got fixed, which are only flaky.

The verdict is statistical, so a flaky case is not called a regression on noise. For each
case in both runs, a one-sided Fisher exact test asks whether it passes less often now than
in the baseline (pass counts over trials). The p-values of all compared cases are combined
with Holm's step-down correction, so the chance of calling even one false regression in a
run stays at most `alpha` (0.05 by default: a family-wise false-alarm rate).

A case is a regression when its drop is significant, or when it passed every baseline trial
and fails every trial now (a consistent break: with one or two trials no test can reach
significance, and the gate must still stop it). A case with mixed trials now and no
significant drop is flaky: reported, not a regression, and it does not fail the gate.

The comparison works on case summaries (what every run keeps), and reads trajectories only
for the cases that regressed, to find where their path left the baseline's.
"""

from collections.abc import Sequence

from trailcheck.models import (
    CaseResult,
    CaseShift,
    CaseStatus,
    CaseSummary,
    Comparison,
    Divergence,
    Regression,
    RunResult,
)

DEFAULT_ALPHA = 0.05


def drop_p_value(baseline_passes: int, baseline_trials: int, passes: int, trials: int) -> float:
    """One-sided Fisher exact p-value that the case passes less often now than in the baseline."""
    table = [[baseline_passes, baseline_trials - baseline_passes], [passes, trials - passes]]
    from scipy.stats import fisher_exact  # scipy.stats costs about a second to import: only when comparing

    return float(fisher_exact(table, alternative="greater").pvalue)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order: reject where adjusted < alpha.

    Controls the family-wise error rate under any dependence between the tests.
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def case_shifts(baseline: Sequence[CaseSummary], current: Sequence[CaseSummary]) -> list[CaseShift]:
    """The exact test for every case present in both runs, Holm-adjusted over all of them."""
    before = {s.case_id: s for s in baseline}
    pairs = [(before[s.case_id], s) for s in current if s.case_id in before]
    raw = [drop_p_value(b.passes, b.trials, c.passes, c.trials) for b, c in pairs]
    return [
        CaseShift(
            case_id=c.case_id,
            baseline_passes=b.passes,
            baseline_trials=b.trials,
            passes=c.passes,
            trials=c.trials,
            p_value=p,
            adjusted_p_value=adj,
        )
        for (b, c), p, adj in zip(pairs, raw, holm_adjust(raw), strict=True)
    ]


def is_significant(shift: CaseShift, alpha: float = DEFAULT_ALPHA) -> bool:
    """The drop is significant at family-wise rate `alpha`."""
    worse = shift.passes * shift.baseline_trials < shift.baseline_passes * shift.trials
    return worse and shift.adjusted_p_value < alpha


def is_regression(shift: CaseShift, alpha: float = DEFAULT_ALPHA) -> bool:
    """Significant drop, or a consistent break (every baseline trial passed, every trial now fails)."""
    consistent_break = shift.baseline_passes == shift.baseline_trials and shift.passes == 0
    return is_significant(shift, alpha) or consistent_break


def regressed_case_ids(
    baseline: Sequence[CaseSummary], current: Sequence[CaseSummary], alpha: float = DEFAULT_ALPHA
) -> list[str]:
    """The cases of `current` that regressed against `baseline` (see the module docstring)."""
    return [s.case_id for s in case_shifts(baseline, current) if is_regression(s, alpha)]


def first_divergence(baseline: CaseResult, current: CaseResult) -> Divergence | None:
    """The first step at which the two trajectories differ (tool name, arguments or message)."""
    before = baseline.trajectory.step_signatures()
    after = current.trajectory.step_signatures()
    for i in range(max(len(before), len(after))):
        b = before[i] if i < len(before) else None
        a = after[i] if i < len(after) else None
        if a != b:
            return Divergence(step_index=i, baseline_step=b, current_step=a)
    return None


def compare_with_baseline(
    baseline_run: RunResult,
    current: Sequence[CaseSummary],
    baseline_trials: Sequence[CaseResult] = (),
    current_trials: Sequence[CaseResult] = (),
    alpha: float = DEFAULT_ALPHA,
) -> Comparison:
    """The comparison; `*_trials` (of the regressed cases) let it say where each path diverged."""
    before = {s.case_id: s for s in baseline_run.cases}
    first_before: dict[str, CaseResult] = {}
    for result in baseline_trials:
        first_before.setdefault(result.case_id, result)
    first_failing: dict[str, CaseResult] = {}
    for result in current_trials:
        if result.status is not CaseStatus.PASSED:
            first_failing.setdefault(result.case_id, result)
    now = {s.case_id: s for s in current}
    regressions, flaky = [], []
    for shift in case_shifts(baseline_run.cases, current):
        summary = now[shift.case_id]
        if is_regression(shift, alpha):
            b, c = first_before.get(shift.case_id), first_failing.get(shift.case_id)
            regressions.append(
                Regression(
                    case_id=shift.case_id,
                    baseline_pass_rate=before[shift.case_id].pass_at_1,
                    current_pass_rate=summary.pass_at_1,
                    reason=summary.reason,
                    failure_category=summary.failure_category,
                    divergence=first_divergence(b, c) if b and c else None,
                    shift=shift,
                    significant=is_significant(shift, alpha),
                )
            )
        elif 0 < shift.passes < shift.trials:
            flaky.append(shift)
    return Comparison(
        baseline_run_id=baseline_run.run_id,
        baseline_version=baseline_run.agent_version,
        regressions=regressions,
        fixed=[
            s.case_id
            for s in current
            if s.case_id in before
            and before[s.case_id].status is not CaseStatus.PASSED
            and s.status is CaseStatus.PASSED
        ],
        missing_in_baseline=[s.case_id for s in current if s.case_id not in before],
        flaky=flaky,
        alpha=alpha,
        baseline_pass_at_1=baseline_run.pass_at_1,
        baseline_pass_hat_k=baseline_run.pass_hat_k,
        baseline_cost_per_case_usd=baseline_run.cost_per_case_usd,
        baseline_latency_per_case_s=baseline_run.latency_per_case_s,
    )
