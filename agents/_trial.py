"""What every adapter shares: building a trajectory turn by turn, timing it, turning errors into status."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

from trailcheck.agents.errors import (
    AgentError,
    AgentProtocolError,
    AgentStatusError,
    AgentTimeout,
    AgentTransportError,
)
from trailcheck.models import Case, EndReason, ErrorKind, Step, TokenUsage, Trajectory, TrajectoryStatus, Turn


@dataclass
class TrialState:
    """A trajectory being built; adapters append steps and add usage as turns complete."""

    steps: list[Step] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    final_answer: str | None = None
    escalated: bool = False
    ended: EndReason = EndReason.NORMAL

    def add_cost(self, cost: float | None) -> None:
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost


PlayTurn = Callable[[TrialState, Turn], Awaitable[None]]


async def run_trial(
    case: Case, trial: int, timeout_s: float, play_turn: PlayTurn, session_id: str | None = None
) -> Trajectory:
    """Play each turn of `case` with `play_turn` under one timeout; record failures, never raise them."""
    state = TrialState()
    status, error, kind = TrajectoryStatus.OK, None, None
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            for turn in case.turns:
                await play_turn(state, turn)
    except TimeoutError:
        status, error = TrajectoryStatus.TIMEOUT, f"no complete answer within {timeout_s:g}s"
        kind = ErrorKind.TIMEOUT
    except AgentTimeout as exc:
        status, error, kind = TrajectoryStatus.TIMEOUT, str(exc), ErrorKind.TIMEOUT
    except AgentError as exc:
        status, error, kind = TrajectoryStatus.ERRORED, str(exc), error_kind(exc)
    return Trajectory(
        case_id=case.id,
        trial=trial,
        steps=state.steps,
        tokens=TokenUsage(input=state.input_tokens, output=state.output_tokens),
        cost_usd=state.cost_usd,
        latency_s=time.perf_counter() - started,
        final_answer=state.final_answer,
        escalated=state.escalated,
        ended=state.ended,
        session_id=session_id,
        status=status,
        error=error,
        error_kind=kind,
    )


def error_kind(exc: AgentError) -> ErrorKind:
    """The kind of an agent error, from its place in the error tree (agents/errors.py)."""
    if isinstance(exc, AgentTransportError):
        return ErrorKind.TRANSPORT
    if isinstance(exc, AgentTimeout):
        return ErrorKind.TIMEOUT
    if isinstance(exc, AgentStatusError):
        return ErrorKind.STATUS
    if isinstance(exc, AgentProtocolError):
        return ErrorKind.REPLY
    return ErrorKind.AGENT
