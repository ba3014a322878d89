"""Checks that only make sense on live traces: the recorded completion flag and cost outliers.

They take what they need at construction (the reference costs of the run) and judge one trace;
the registry's checks (checks/registry.py) run beside them.
"""

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from trailcheck.models import FailureCategory, Trace, Verdict, VerdictStatus

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


# The common verdicts are built once: verdicts are never changed after they are made.
_COMPLETED = Verdict(check="completed", status=VerdictStatus.PASSED)
_NO_COMPLETED = Verdict(
    check="completed", status=VerdictStatus.SKIPPED, reason="the trace records no 'completed'"
)
_NOT_OUTLIER = Verdict(check="cost_outlier", status=VerdictStatus.PASSED)
_NO_COST = Verdict(check="cost_outlier", status=VerdictStatus.SKIPPED, reason="the trace records no cost")


def completion_verdict(trace: Trace) -> Verdict:
    """The task is recorded as completed; skipped when the trace does not say."""
    if trace.completed is None:
        return _NO_COMPLETED
    if trace.completed:
        return _COMPLETED
    return Verdict(
        check="completed",
        status=VerdictStatus.FAILED,
        reason="the trace records the task as not completed",
        failure_category=FailureCategory.GOAL_MISALIGNMENT,
    )


@dataclass(frozen=True)
class CostOutlier:
    """A trace costing far more than its task type usually does: above median + `z` robust sigmas.

    The reference (median, MAD) is per task type, from the costs it is built with (the run's
    uniform sample); a task type with fewer than `min_traces` costs is not judged.
    """

    reference: dict[str, tuple[float, float]]
    z: float = 6.0
    min_traces: int = 20

    @classmethod
    def from_costs(
        cls, costs: Mapping[str, Iterable[float]], z: float = 6.0, min_traces: int = 20
    ) -> "CostOutlier":
        """Reference from the costs seen per task type."""
        reference = {}
        for task_type, values in costs.items():
            data = list(values)
            if len(data) >= min_traces:
                median = statistics.median(data)
                reference[task_type] = (median, statistics.median(abs(v - median) for v in data))
        return cls(reference, z, min_traces)

    def verdict(self, trace: Trace, task_type: str) -> Verdict:
        """Passed, failed (an outlier) or skipped (no cost, or too few traces of the task type)."""
        if trace.cost is None:
            return Verdict(
                check="cost_outlier", status=VerdictStatus.SKIPPED, reason="the trace records no cost"
            )
        if task_type not in self.reference:
            return Verdict(
                check="cost_outlier",
                status=VerdictStatus.SKIPPED,
                reason=f"fewer than {self.min_traces} sampled traces of task type {task_type!r}",
            )
        median, mad = self.reference[task_type]
        # A floor on the spread: a task type of identical costs must not flag a cent's difference.
        limit = median + self.z * max(MAD_TO_SIGMA * mad, 0.05 * median)
        if trace.cost > limit:
            return Verdict(
                check="cost_outlier",
                status=VerdictStatus.FAILED,
                reason=f"cost ${trace.cost:.4f} > ${limit:.4f} (median ${median:.4f} of {task_type!r})",
                failure_category=FailureCategory.COST,
            )
        return _NOT_OUTLIER
