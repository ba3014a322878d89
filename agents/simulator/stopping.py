"""When a simulated user stops, whatever the engine: turn limit, a hand-over, the goal met."""

from trailcheck.agents.simulator._reading import goal_met
from trailcheck.agents.simulator.base import SimulatorStop, Transcript
from trailcheck.models.simulated_user import SimulatedUser, StopReason


def stop_before_turn(spec: SimulatedUser, transcript: Transcript, sent: int) -> SimulatorStop | None:
    """The stop the conversation has reached before the user's next message, or None to go on."""
    reply = transcript.last_agent_reply
    if reply is not None:
        pattern = goal_met(spec, reply)
        if pattern is not None:
            return SimulatorStop(StopReason.GOAL_MET, f"the reply matches /{pattern}/")
    if transcript.escalated and spec.stop_on_escalation:
        return SimulatorStop(StopReason.ESCALATED, "the agent handed over to a human")
    if sent >= spec.max_turns:
        return SimulatorStop(StopReason.TURN_LIMIT, f"{sent} simulated messages (max_turns)")
    return None
