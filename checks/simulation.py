"""Did the simulated user reach its goal? A conversation where the user gave up is a failed task."""

from dataclasses import dataclass

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.models import FailureCategory, Verdict
from trailcheck.models.simulated_user import StopReason


@dataclass
class SimulatedGoal:
    """Fails unless the simulated user stopped because the agent's reply met its `done_when` (or it escalated,
    when `escalation_counts`)."""

    escalation_counts: bool = True
    name: str = "simulated_goal"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        record = ctx.trajectory.simulation
        if record is None:
            return passed(self.name)
        reached = {StopReason.GOAL_MET} | ({StopReason.ESCALATED} if self.escalation_counts else set())
        if record.stop_reason in reached:
            return passed(self.name)
        how = "the conversation ended without the goal"
        if record.stop_reason is StopReason.GAVE_UP:
            how = "the simulated user gave up"
        elif record.stop_reason is StopReason.TURN_LIMIT:
            how = f"no goal after {record.turns} simulated messages (turn limit)"
        elif record.stop_reason is StopReason.ESCALATED:
            how = "the agent handed over to a human"
        return failed(self.name, f"{how} (seed {record.seed}, {record.persona.value})", self.failure_category)
