"""A simulated user: a goal-driven conversation partner instead of scripted turns.

A case that declares `simulated_user` is played turn by turn: after each reply of the agent the
simulator decides the next user message (answering the agent's questions from the facts it
knows, confirming, nudging, giving up) or stops. The rule engine is deterministic for a seed;
the LLM engine talks to an OpenAI-compatible endpoint.
"""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator


class Persona(StrEnum):
    """How the simulated user talks. The persona changes wording, never the facts."""

    TERSE = "terse"
    VERBOSE = "verbose"
    IMPATIENT = "impatient"
    NON_NATIVE = "non_native"


class Disclosure(StrEnum):
    """When a fact is told: in the first message, or only when the agent asks for it."""

    UPFRONT = "upfront"
    WHEN_ASKED = "when_asked"


class SimulatedFact(BaseModel):
    """Something the user knows (an order id, an account, an amount) and when they tell it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, description="The slot name, e.g. order_id; its words identify a question."
    )
    value: str = Field(min_length=1)
    disclose: Disclosure = Disclosure.WHEN_ASKED
    asked_by: list[str] = Field(
        default_factory=list,
        description="Extra regexes (case-insensitive) that mark an agent question about this fact.",
    )
    wrong_first: str | None = Field(
        default=None, description="A wrong value given the first time; the user corrects it on the next turn."
    )


class LLMSimulatorConfig(BaseModel):
    """The OpenAI-compatible endpoint of the LLM engine. Unset fields come from the environment."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default=None, description="Default $TRAILCHECK_SIMULATOR_URL.")
    model: str | None = Field(default=None, description="Default $TRAILCHECK_SIMULATOR_MODEL.")
    api_key: SecretStr | None = Field(
        default=None,
        description="Default $TRAILCHECK_SIMULATOR_API_KEY or the Prefect Secret named by "
        "$TRAILCHECK_SIMULATOR_API_KEY_BLOCK.",
    )
    timeout_s: float = Field(default=60.0, gt=0)
    temperature: float = Field(default=0.7, ge=0, le=2)


class SimulatedUser(BaseModel):
    """A user with a goal, the facts they know, a persona, disclosure rules and stop conditions."""

    model_config = ConfigDict(extra="forbid")

    goal: str = Field(min_length=1, description="What the user wants, in their words: the first message.")
    facts: list[SimulatedFact] = Field(default_factory=list)
    persona: Persona = Persona.TERSE
    engine: Literal["rules", "llm"] = "rules"
    done_when: list[str] = Field(
        default_factory=list,
        description="Regexes (case-insensitive) on the agent's reply that mean the goal is met "
        "(or settled, e.g. a refusal with a reason); the user then stops.",
    )
    stop_on_escalation: bool = Field(default=True, description="Stop once the agent hands over to a human.")
    give_up_after: int = Field(
        default=3, ge=1, description="Unhelpful agent replies in a row before giving up."
    )
    max_turns: int = Field(default=8, ge=1, description="Simulated user messages at most.")
    require_goal: bool = Field(
        default=True,
        description="With done_when: a trial whose user did not reach the goal fails simulated_goal.",
    )
    seed: int = Field(default=0, description="Trial k uses seed + k, so trials are different conversations.")
    llm: LLMSimulatorConfig = Field(default_factory=LLMSimulatorConfig)

    @model_validator(mode="after")
    def _unique_fact_names(self) -> "SimulatedUser":
        names = [f.name for f in self.facts]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"fact(s) named twice: {', '.join(duplicates)}")
        return self


class StopReason(StrEnum):
    """Why the simulated conversation ended."""

    GOAL_MET = "goal_met"
    ESCALATED = "escalated"
    GAVE_UP = "gave_up"
    TURN_LIMIT = "turn_limit"


class SimulationRecord(BaseModel):
    """What the simulator did in one trial: its seed, engine, why it stopped, and whether it stayed valid."""

    engine: str
    seed: int
    persona: Persona
    turns: int = Field(ge=0, description="Simulated user messages sent.")
    stop_reason: StopReason | None = None
    invalid_reason: str | None = Field(
        default=None,
        description="Set when the simulator itself misbehaved (leaked a withheld fact, went off-goal, "
        "its provider failed): the trial is errored, not an agent failure.",
    )
