"""From what an agent says to trailcheck's models: request templates, reply paths, reply -> trajectory.

HTTP agents that do not speak trailcheck's protocol are described by a request template (JSON
with ``{{placeholders}}``) and a response mapping (dotted paths into the reply). Every reply,
mapped or native, becomes an `AgentReply` first, so one function records replies on a trial.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from trailcheck.agents._trial import TrialState
from trailcheck.agents.errors import AgentReplyError
from trailcheck.agents.protocol import AgentReply
from trailcheck.models import AssistantMessage, EndReason, ToolCall

if TYPE_CHECKING:
    from trailcheck.agents.config import ResponseMapping

_MISSING = object()


def new_session_id(case_id: str, trial: int) -> str:
    """A session id unique to one trial (``case#trial-hex``), so trials never share server-side state."""
    return f"{case_id}#{trial}-{os.urandom(4).hex()}"


def get_path(document: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path (``choices.0.message.content``); `default`, or AgentReplyError if absent."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif default is not _MISSING:
            return default
        else:
            keys = sorted(document)[:10] if isinstance(document, dict) else type(document).__name__
            raise AgentReplyError(f"reply has no {path!r} (top-level keys: {keys})")
    return current


def map_reply(document: Any, mapping: ResponseMapping) -> AgentReply:
    """Read an agent's JSON reply through `mapping`; AgentReplyError names the path that does not fit.

    The reply path is required; the others are read when present. Values are validated as
    trailcheck's protocol validates them (tokens are counts >= 0, tool calls have a name, ...).
    """
    sources: dict[tuple[str, ...], str | None] = {
        ("reply",): mapping.reply,
        ("tool_calls",): mapping.tool_calls,
        ("escalated",): mapping.escalated,
        ("usage", "input_tokens"): mapping.input_tokens,
        ("usage", "output_tokens"): mapping.output_tokens,
        ("cost_usd",): mapping.cost_usd,
    }
    data: dict[str, Any] = {"reply": get_path(document, mapping.reply), "usage": {}}
    for (*parents, key), path in sources.items():
        if key == "reply" or path is None:
            continue
        value = get_path(document, path, None)
        if value is not None:
            (data["usage"] if parents else data)[key] = value
    try:
        return AgentReply.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(str(p) for p in error["loc"])
        head = 2 if loc[0] == "usage" else 1
        path = ".".join([str(sources.get(loc[:head]) or ".".join(loc[:head])), *loc[head:]])
        received = repr(error.get("input"))[:80]
        raise AgentReplyError(
            f"unreadable reply: field {path!r} does not fit: {error['msg']} (got {received})"
        ) from None


def record_reply(state: TrialState, reply: AgentReply, observed: list[ToolCall] | None = None) -> None:
    """Add one turn's reply to the trial: its tool calls, the answer, usage and cost.

    `observed` are the turn's calls as a gateway saw them; when given they replace the calls the
    agent reports (observed beats self-reported).
    """
    if observed is not None:
        state.steps.extend(observed)
    else:
        state.steps.extend(ToolCall(**call.model_dump(), observed=False) for call in reply.tool_calls)
    state.steps.append(AssistantMessage(content=reply.reply))
    state.final_answer = reply.reply
    state.escalated = state.escalated or reply.escalated
    if reply.ended is not EndReason.NORMAL:
        state.ended = reply.ended
    state.input_tokens += reply.usage.input_tokens
    state.output_tokens += reply.usage.output_tokens
    state.add_cost(reply.cost_usd)
