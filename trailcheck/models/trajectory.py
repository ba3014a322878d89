"""What an agent did in one trial of a case (or one live trace): the whole path, not only the answer."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, JsonValue

from trailcheck.models.fault import FaultRecord
from trailcheck.models.simulated_user import SimulationRecord


class UserMessage(BaseModel):
    """A message from the user (a case turn)."""

    type: Literal["user"] = "user"
    content: str
    simulated: bool = Field(default=False, description="Written by a simulated user, not a scripted turn.")
    reason: str | None = Field(default=None, description="Why the simulated user said it.")
    message_index: int | None = Field(
        default=None, description="Position in the source chat messages, if any."
    )


class AssistantMessage(BaseModel):
    """A message from the agent to the user.

    `visible` is false for text the agent attached to a tool call that the user never saw (a
    reader option, see `trajectory_from_messages`); such text is not a reply to judge.
    """

    type: Literal["assistant"] = "assistant"
    content: str
    visible: bool = True
    message_index: int | None = Field(
        default=None, description="Position in the source chat messages, if any."
    )


class ToolCall(BaseModel):
    """A tool call with what came back.

    `observed` is true when trailcheck saw the call itself (the tool loop, the gateway)
    and false when the agent reported it; observed beats self-reported.
    """

    type: Literal["tool_call"] = "tool_call"
    name: str
    args: dict[str, JsonValue] = Field(default_factory=dict)
    result: JsonValue = None
    error: str | None = None
    status_code: int | None = None
    latency_s: float | None = None
    observed: bool = False
    message_index: int | None = Field(
        default=None,
        description="Position of the assistant message that made the call, in the source messages.",
    )
    result_message_index: int | None = Field(
        default=None,
        description="Position of the tool message that answered the call, in the source messages.",
    )
    fault: FaultRecord | None = Field(
        default=None, description="The fault trailcheck injected into this call, if any (gateway, tool loop)."
    )

    @property
    def failed(self) -> bool:
        """Whether the call failed, by the one definition in trailcheck/models/tool_failure.py.

        The readers turn error payloads, error text and contract breaks into `error`, so here it is
        an error recorded or an HTTP error status.
        """
        return self.error is not None or (self.status_code is not None and self.status_code >= 400)

    @property
    def answered(self) -> bool:
        """Whether the tool sent back a response to judge against its contract.

        A 2xx answer counts even when the agent's client then refused it as malformed (that is
        exactly a contract break); an error status, a timeout or a refused connection does not.
        """
        if self.status_code is not None:
            return 200 <= self.status_code < 300 and self.result is not None
        return self.error is None

    def signature(self) -> str:
        """A short, stable description used to compare trajectories step by step."""
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.args.items()))
        return f"tool {self.name}({args})"


Step = Annotated[UserMessage | AssistantMessage | ToolCall, Field(discriminator="type")]


class TrajectoryStatus(StrEnum):
    """Whether the agent answered at all. Anything but ok makes the case errored, never passed."""

    OK = "ok"
    ERRORED = "errored"
    TIMEOUT = "timeout"


class EndReason(StrEnum):
    """How the conversation ended. Only `normal` means the agent (or the user) finished it.

    step_limit: it was cut off at the agent's or the harness's step limit; truncated: the record
    of it ends early (a trace cut short, a session that never closed).
    """

    NORMAL = "normal"
    STEP_LIMIT = "step_limit"
    TRUNCATED = "truncated"


class ErrorKind(StrEnum):
    """Why a trial has no answer, from `trailcheck.agents.errors`: whose failure it is follows from it.

    transport: the agent could not be reached (connection refused, reset, DNS, TLS): the test
    infrastructure failed, and the trial may be retried. The others are the agent's: timeout,
    status (HTTP >= 400), reply (an unreadable or oversized answer), agent (anything else).
    simulator: the simulated user misbehaved or its provider failed; not the agent's failure.
    """

    TRANSPORT = "transport"
    TIMEOUT = "timeout"
    STATUS = "status"
    REPLY = "reply"
    AGENT = "agent"
    SIMULATOR = "simulator"


class TokenUsage(BaseModel):
    """Tokens spent, as reported by the agent or the model API."""

    input: int = Field(default=0, ge=0)
    output: int = Field(default=0, ge=0)

    @property
    def total(self) -> int:
        """Input plus output tokens."""
        return self.input + self.output


class Trajectory(BaseModel):
    """The ordered steps of one trial, with its cost, latency and outcome."""

    case_id: str
    trial: int = Field(default=0, ge=0)
    steps: list[Step] = Field(default_factory=list)
    tokens: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float | None = Field(default=None, ge=0)
    latency_s: float = Field(default=0.0, ge=0)
    final_answer: str | None = None
    escalated: bool = False
    status: TrajectoryStatus = TrajectoryStatus.OK
    error: str | None = Field(default=None, description="Why the trial errored or timed out.")
    error_kind: ErrorKind | None = Field(
        default=None,
        description="What kind of failure `error` is; `transport` means the agent was never reached.",
    )
    attempts: int = Field(default=1, ge=1, description="Tries of this trial (transport errors are retried).")
    ended: EndReason = Field(
        default=EndReason.NORMAL, description="How the conversation ended (`completed: true` needs normal)."
    )
    session_id: str | None = Field(
        default=None,
        description="The conversation's session id, as sent to the agent (probes' {session_id}).",
    )
    state: dict[str, JsonValue] = Field(
        default_factory=dict, description="What each environment probe read after the conversation, by name."
    )
    state_errors: dict[str, str] = Field(
        default_factory=dict,
        description="Probes (or the reset hook, under `reset`) that could not run, and why.",
    )
    state_skipped: dict[str, str] = Field(
        default_factory=dict,
        description="Probes not read because this agent lacks what they need (its {tools_url}), and why.",
    )
    simulation: SimulationRecord | None = Field(
        default=None, description="Set when a simulated user played the conversation."
    )

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The tool-call steps, in order."""
        return [s for s in self.steps if isinstance(s, ToolCall)]

    @property
    def replies(self) -> list[AssistantMessage]:
        """The agent's messages the user saw, in order."""
        return [s for s in self.steps if isinstance(s, AssistantMessage) and s.visible]

    def step_signatures(self) -> list[str]:
        """One line per step, for diffing against another trajectory."""
        out = []
        for step in self.steps:
            if isinstance(step, ToolCall):
                out.append(step.signature())
            else:
                out.append(f"{step.type}: {step.content[:80]}")
        return out
