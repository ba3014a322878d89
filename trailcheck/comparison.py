"""Compare a run with its baseline: which cases newly fail, which got fixed, and where paths part."""

from collections import defaultdict
from collections.abc import Iterable

from trailcheck.models import CaseResult, CaseStatus, Comparison, Divergence, Regression, RunResult
from trailcheck.reliability import summarize_cases


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


def _by_case(results: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    grouped: dict[str, list[CaseResult]] = defaultdict(list)
    for result in results:
        grouped[result.case_id].append(result)
    return grouped


def compare_with_baseline(
    baseline_run: RunResult, baseline_results: list[CaseResult], current_results: list[CaseResult]
) -> Comparison:
    """A case regressed when every baseline trial passed and some current trial did not.

    (A statistical test over trials for flaky cases belongs to the CI-gate work; with a
    single trial this is the plain definition.)
    """
    before = {s.case_id: s for s in summarize_cases(baseline_results)}
    after = summarize_cases(current_results)
    before_trials, after_trials = _by_case(baseline_results), _by_case(current_results)
    regressions, fixed, missing = [], [], []
    for summary in after:
        base = before.get(summary.case_id)
        if base is None:
            missing.append(summary.case_id)
            continue
        if base.status is CaseStatus.PASSED and summary.status is not CaseStatus.PASSED:
            failing = next(r for r in after_trials[summary.case_id] if r.status is not CaseStatus.PASSED)
            regressions.append(
                Regression(
                    case_id=summary.case_id,
                    baseline_pass_rate=base.pass_at_1,
                    current_pass_rate=summary.pass_at_1,
                    reason=summary.reason,
                    failure_category=summary.failure_category,
                    divergence=first_divergence(before_trials[summary.case_id][0], failing),
                )
            )
        elif base.status is not CaseStatus.PASSED and summary.status is CaseStatus.PASSED:
            fixed.append(summary.case_id)
    return Comparison(
        baseline_run_id=baseline_run.run_id,
        baseline_version=baseline_run.agent_version,
        regressions=regressions,
        fixed=fixed,
        missing_in_baseline=missing,
    )
