"""A regression case: a (multi-turn) conversation and what its trajectory must look like."""

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationInfo, field_validator, model_validator

from trailcheck.models.environment import Environment
from trailcheck.models.expectations import Expectations
from trailcheck.models.failure import FailureCategory
from trailcheck.models.fault import FaultSpec
from trailcheck.models.fixture import CaseOrigin, ToolFixture
from trailcheck.models.simulated_user import SimulatedUser

CASE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"


class Turn(BaseModel):
    """One user turn of a conversation. In YAML a plain string is a user turn."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user"] = "user"
    content: str = Field(min_length=1)


class Case(BaseModel):
    """One regression case."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=CASE_ID_PATTERN)
    task_type: str = "general"
    description: str = ""
    simulated_user: SimulatedUser | None = Field(
        default=None, description="A goal-driven simulated user who goes on after the scripted turns."
    )
    turns: list[Turn] = Field(
        default_factory=list,
        validate_default=True,
        description="Scripted user turns, played first (at least one, unless a simulated_user speaks).",
    )
    context: dict[str, JsonValue] = Field(
        default_factory=dict, description="Passed to the agent with every turn (e.g. the customer id)."
    )
    expectations: Expectations = Field(default_factory=Expectations)
    tags: list[str] = Field(default_factory=list)
    failure_category: FailureCategory | None = Field(
        default=None,
        description="The failure mode this case tests for; its failing verdicts are reported under it.",
    )
    timeout_s: float | None = Field(default=None, gt=0)
    fixtures: list[ToolFixture] = Field(
        default_factory=list, description="Recorded tool responses served instead of the live tools."
    )
    faults: list[FaultSpec] = Field(
        default_factory=list, description="Tool faults injected while the case runs (through the gateway)."
    )
    origin: CaseOrigin | None = Field(default=None, description="Set on a case promoted from a trace.")
    environment: Environment | None = Field(
        default=None,
        description="Probes read after each trial and a reset hook run before it (usually the suite's).",
    )

    @field_validator("turns")
    @classmethod
    def _someone_speaks(cls, turns: list[Turn], info: ValidationInfo) -> list[Turn]:
        # simulated_user is declared first, so it is in info.data when it validated.
        if not turns and info.data.get("simulated_user") is None:
            raise ValueError("a case needs turns, a simulated_user, or both")
        return turns

    @field_validator("turns", mode="before")
    @classmethod
    def _strings_are_user_turns(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"content": t} if isinstance(t, str) else t for t in value]
        return value

    @model_validator(mode="after")
    def _state_reads_declared_probes(self) -> Self:
        probes = self.environment.probes if self.environment else {}
        unknown = sorted({a.probe for a in self.expectations.state} - set(probes))
        if unknown:
            known = ", ".join(sorted(probes)) or "none (declare them under the suite's `environment.probes`)"
            raise ValueError(f"expectations.state reads unknown probe(s) {unknown}; declared: {known}")
        return self
