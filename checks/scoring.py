"""Score one trial: run a case's checks on its trajectory and assemble the CaseResult."""

from collections.abc import Sequence

from trailcheck.checks.base import Check, CheckContext, run_check
from trailcheck.models import Case, CaseResult, FailureCategory, Trajectory, TrajectoryStatus


async def score_trajectory(case: Case, trajectory: Trajectory, checks: Sequence[Check]) -> CaseResult:
    """Run every check on `trajectory`.

    An errored or timed-out trajectory is not judged: the agent never finished, so the
    trial is errored (never passed) and its reason is the agent's failure.
    """
    verdicts = []
    if trajectory.status is TrajectoryStatus.OK:
        ctx = CheckContext(case=case, trajectory=trajectory)
        verdicts = [await run_check(check, ctx) for check in checks]
        if case.failure_category is not None:
            # A broken tool contract is the integration's fault, whatever the case tests: keep it.
            verdicts = [
                v.model_copy(update={"failure_category": case.failure_category})
                if v.counts_as_failure and v.failure_category is not FailureCategory.INTEGRATION
                else v
                for v in verdicts
            ]
    return CaseResult(
        case_id=case.id,
        trial=trajectory.trial,
        task_type=case.task_type,
        trajectory=trajectory,
        verdicts=verdicts,
    )
