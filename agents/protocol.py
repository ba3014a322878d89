"""trailcheck's default agent wire protocol: one JSON request per user turn, one JSON reply.

The HTTP adapter speaks it unless a request template and response mapping say otherwise;
a Python-callable agent returns an `AgentReply`; the reference agent serves it.

Request (POST to the agent URL)::

    {"session_id": "refund-ok#0-3f2a", "message": "Refund order A1001", "context": {"customer_id": "C1"}}

Reply::

    {"reply": "Your refund of $20.00 ...", "escalated": false,
     "tool_calls": [{"name": "lookup_order", "args": {"order_id": "A1001"},
                     "result": {...}, "error": null, "status_code": 200, "latency_s": 0.004}],
     "usage": {"input_tokens": 120, "output_tokens": 40}, "cost_usd": 0.0004}
"""

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from trailcheck.models import EndReason


class AgentRequest(BaseModel):
    """One user turn sent to the agent."""

    session_id: str
    message: str
    context: dict[str, JsonValue] = Field(default_factory=dict)


class ReportedToolCall(BaseModel):
    """A tool call as the agent reports it (self-reported, not observed by trailcheck)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    args: dict[str, JsonValue] = Field(default_factory=dict)
    result: JsonValue = None
    error: str | None = None
    status_code: int | None = None
    latency_s: float | None = None


class Usage(BaseModel):
    """Tokens the agent spent on a turn."""

    model_config = ConfigDict(extra="ignore")

    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)


class AgentReply(BaseModel):
    """The agent's answer to one user turn."""

    model_config = ConfigDict(extra="ignore")

    reply: str
    escalated: bool = False
    tool_calls: list[ReportedToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = Field(default=None, ge=0)
    ended: EndReason = Field(
        default=EndReason.NORMAL,
        description="step_limit when the agent stopped at its own step limit (`completed: true` fails then).",
    )
