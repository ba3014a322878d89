"""The simulator interface: given the conversation so far, the next user message or a stop."""

from dataclasses import dataclass, field
from typing import Literal, Protocol

from trailcheck.models.simulated_user import StopReason


@dataclass(frozen=True)
class SimulatedTurn:
    """The next user message and the simulator's reason for it (recorded on the trajectory)."""

    content: str
    reason: str


@dataclass(frozen=True)
class SimulatorStop:
    """The simulated user ends the conversation."""

    reason: StopReason
    detail: str = ""


@dataclass
class Transcript:
    """The conversation as the simulated user saw it: (speaker, text) pairs, oldest first."""

    messages: list[tuple[Literal["user", "agent"], str]] = field(default_factory=list)
    escalated: bool = False

    @property
    def last_agent_reply(self) -> str | None:
        """The agent's latest reply, or None before it said anything."""
        for speaker, text in reversed(self.messages):
            if speaker == "agent":
                return text
        return None

    @property
    def agent_replies(self) -> list[str]:
        """Every reply of the agent, oldest first."""
        return [text for speaker, text in self.messages if speaker == "agent"]


class SimulatorError(Exception):
    """The simulator could not produce a turn (its LLM provider failed): the trial is errored."""


class UserSimulator(Protocol):
    """One simulated user for one trial."""

    async def next_turn(self, transcript: Transcript) -> SimulatedTurn | SimulatorStop:
        """The next message, or why the user stops. SimulatorError when it cannot tell."""
        ...

    async def aclose(self) -> None:
        """Release what the engine holds (an HTTP client)."""
        ...
