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
from trailcheck.agents.simulator import SimulatorError, SimulatorStop, Transcript, build_simulator
from trailcheck.agents.simulator.validity import invalid_turn
from trailcheck.models import (
    AssistantMessage,
    Case,
    EndReason,
    ErrorKind,
    Step,
    TokenUsage,
    Trajectory,
    TrajectoryStatus,
    Turn,
    UserMessage,
)
from trailcheck.models.simulated_user import SimulatedUser, SimulationRecord, StopReason


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
    record = _new_record(case.simulated_user, trial)
    started = time.perf_counter()
    try:
        with anyio.fail_after(timeout_s):
            for turn in case.turns:
                await play_turn(state, turn)
            if case.simulated_user is not None and record is not None:
                await _simulate(case.simulated_user, record, state, play_turn)
    except SimulatorError as exc:
        status, error, kind = TrajectoryStatus.ERRORED, f"simulated user: {exc}", ErrorKind.SIMULATOR
        if record is not None:
            record.invalid_reason = str(exc)
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
        simulation=record,
    )


def _new_record(spec: SimulatedUser | None, trial: int) -> SimulationRecord | None:
    if spec is None:
        return None
    return SimulationRecord(engine=spec.engine, seed=spec.seed + trial, persona=spec.persona, turns=0)


def _transcript(state: TrialState) -> Transcript:
    transcript = Transcript(escalated=state.escalated)
    for step in state.steps:
        if isinstance(step, UserMessage):
            transcript.messages.append(("user", step.content))
        elif isinstance(step, AssistantMessage):
            transcript.messages.append(("agent", step.content))
    return transcript


async def _simulate(
    spec: SimulatedUser, record: SimulationRecord, state: TrialState, play_turn: PlayTurn
) -> None:
    """Let the simulated user talk until it stops; each of its messages is a user step marked simulated."""
    simulator = build_simulator(spec, record.seed)
    try:
        while True:
            transcript = _transcript(state)
            decision = await simulator.next_turn(transcript)
            if isinstance(decision, SimulatorStop):
                record.stop_reason = decision.reason
                if decision.reason is StopReason.TURN_LIMIT:
                    state.ended = EndReason.STEP_LIMIT  # cut off, not finished: `completed: true` fails
                return
            problem = invalid_turn(spec, transcript, decision)
            if problem is not None:
                raise SimulatorError(f"simulator-invalid: {problem}")
            before = len(state.steps)
            record.turns += 1
            await play_turn(state, Turn(content=decision.content))
            _mark_simulated(state, before, decision.reason)
    finally:
        await simulator.aclose()


def _mark_simulated(state: TrialState, since: int, reason: str) -> None:
    for index in range(since, len(state.steps)):
        step = state.steps[index]
        if isinstance(step, UserMessage):
            state.steps[index] = step.model_copy(update={"simulated": True, "reason": reason})
            return


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
