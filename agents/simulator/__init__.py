"""Simulated users: engines that write the next user message from the conversation so far.

`build_simulator(spec, seed)` returns the engine the case asks for (`rules` or `llm`); both
follow `UserSimulator` (base.py). `run_trial` (agents/_trial.py) drives them, and `validity`
checks the simulator itself (a leaked fact or an off-goal message makes the trial invalid).
"""

from trailcheck.agents.simulator.base import (
    SimulatedTurn,
    SimulatorError,
    SimulatorStop,
    Transcript,
    UserSimulator,
)
from trailcheck.agents.simulator.llm import LLMSimulator
from trailcheck.agents.simulator.rules import RuleSimulator
from trailcheck.models.simulated_user import SimulatedUser


def build_simulator(spec: SimulatedUser, seed: int) -> UserSimulator:
    """The engine `spec.engine` names, seeded with `seed`."""
    if spec.engine == "llm":
        return LLMSimulator(spec, seed)
    return RuleSimulator(spec, seed)


__all__ = [
    "LLMSimulator",
    "RuleSimulator",
    "SimulatedTurn",
    "SimulatorError",
    "SimulatorStop",
    "Transcript",
    "UserSimulator",
    "build_simulator",
]
