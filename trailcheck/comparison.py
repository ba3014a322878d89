"""Compare a run with its baseline: which cases newly fail, which got fixed, and where paths part.

The comparison works on case summaries (what every run keeps), and reads trajectories only
for the cases that regressed, to find where their path left the baseline's.
"""

from collections.abc import Sequence

from trailcheck.models import (
    CaseResult,
    CaseStatus,
    CaseSummary,
    Comparison,
    Divergence,
    Regression,
    RunResult,
)


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


def regressed_case_ids(baseline: Sequence[CaseSummary], current: Sequence[CaseSummary]) -> list[str]:
    """Cases whose every baseline trial passed and some current trial did not.

    (A statistical test over trials for flaky cases belongs to the CI-gate work; with one
    trial this is the plain definition.)
    """
    passed_before = {s.case_id for s in baseline if s.status is CaseStatus.PASSED}
    return [s.case_id for s in current if s.case_id in passed_before and s.status is not CaseStatus.PASSED]


def compare_with_baseline(
    baseline_run: RunResult,
    current: Sequence[CaseSummary],
    baseline_trials: Sequence[CaseResult] = (),
    current_trials: Sequence[CaseResult] = (),
) -> Comparison:
    """The comparison; `*_trials` (of the regressed cases) let it say where each path diverged."""
    before = {s.case_id: s for s in baseline_run.cases}
    regressed = set(regressed_case_ids(baseline_run.cases, current))
    first_before = {}
    for result in baseline_trials:
        first_before.setdefault(result.case_id, result)
    first_failing = {}
    for result in current_trials:
        if result.status is not CaseStatus.PASSED:
            first_failing.setdefault(result.case_id, result)
    regressions = []
    for summary in current:
        if summary.case_id not in regressed:
            continue
        b, c = first_before.get(summary.case_id), first_failing.get(summary.case_id)
        regressions.append(
            Regression(
                case_id=summary.case_id,
                baseline_pass_rate=before[summary.case_id].pass_at_1,
                current_pass_rate=summary.pass_at_1,
                reason=summary.reason,
                failure_category=summary.failure_category,
                divergence=first_divergence(b, c) if b and c else None,
            )
        )
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
    )
