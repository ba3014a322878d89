"""Recorded tool responses that a case replays against instead of the live systems."""

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class ToolFixture(BaseModel):
    """What a tool answered to a call, recorded (from a trace) so the case replays offline.

    A call matches a fixture when the tool name is equal and every argument given in `args` is
    equal in the call (a call may carry more arguments). Fixtures of one tool are used in order;
    the last one repeats.
    """

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    args: dict[str, JsonValue] = Field(default_factory=dict)
    status: int = Field(default=200, ge=100, le=599, description="The HTTP status the tool answered.")
    body: JsonValue = None
    error: str | None = Field(default=None, description="The failure recorded for the call, if any.")


class CaseOrigin(BaseModel):
    """Where a case came from when it was promoted from a production trace."""

    model_config = ConfigDict(extra="forbid")

    trace_id: str
    observed: str = Field(default="", description="What the agent did (the wrong behaviour).")
    expected: str = Field(default="", description="What it should have done (from the review or a person).")
    promoted_at: str | None = Field(default=None, description="ISO timestamp of the promotion.")
