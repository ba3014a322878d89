"""Read a conversation in OpenAI chat-completions message format into a Trajectory.

This is the format of most recorded agent traces (tau-bench trajectories, production
logs of chat-completions agents): system/user/assistant messages, assistant
``tool_calls`` with JSON-string arguments, and ``tool`` messages carrying each call's
result, linked by ``tool_call_id``. An ``error`` key on the tool message, a tool result that
starts with ``Error:`` (the tau-bench convention) or a JSON object with an ``error`` key marks a
failed call.
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

from trailcheck.models import AssistantMessage, Step, ToolCall, Trajectory, UserMessage

DEFAULT_ESCALATION_TOOLS = frozenset({"transfer_to_human_agents", "escalate_to_human", "create_ticket"})


def _parse_json(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _tool_error(content: Any) -> str | None:
    if isinstance(content, str) and content.startswith("Error"):
        return content
    parsed = _parse_json(content)
    if isinstance(parsed, dict) and parsed.get("error"):
        return str(parsed["error"])
    return None


def _calls_of(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The message's tool calls that are objects (a recorded trace can hold anything; found by fuzzing)."""
    calls = message.get("tool_calls") or []
    return [c for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []


def trajectory_from_messages(
    messages: Iterable[Mapping[str, Any]],
    case_id: str,
    trial: int = 0,
    escalation_tools: frozenset[str] = DEFAULT_ESCALATION_TOOLS,
) -> Trajectory:
    """Build a Trajectory from chat messages; unknown roles (system, developer) are not steps."""
    steps: list[Step] = []
    pending: dict[str, ToolCall] = {}
    unanswered: list[ToolCall] = []
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role == "user" and content:
            steps.append(UserMessage(content=str(content)))
        elif role == "assistant":
            if isinstance(content, str) and content and content != "None":
                steps.append(AssistantMessage(content=content))
            for raw in _calls_of(message):
                function = raw.get("function")
                function = function if isinstance(function, dict) else {}
                args = _parse_json(function.get("arguments") or "{}")
                call = ToolCall(name=str(function.get("name")), args=args if isinstance(args, dict) else {})
                steps.append(call)
                pending[str(raw.get("id"))] = call
                unanswered.append(call)
        elif role == "tool":
            call = pending.pop(str(message.get("tool_call_id")), None)
            if call is None and unanswered:
                call = unanswered[0]  # an unknown id answers the oldest open call
            if call is None:
                continue
            # By identity, and from both books: a call answered through the fallback above is still
            # pending under its own id (found by fuzzing: a second answer crashed `remove`).
            unanswered = [c for c in unanswered if c is not call]
            pending = {k: v for k, v in pending.items() if v is not call}
            call.result = _parse_json(content)
            explicit = message.get("error")  # a trace may record the failure beside the content
            call.error = str(explicit) if explicit else _tool_error(content)
    final = next((s.content for s in reversed(steps) if isinstance(s, AssistantMessage)), None)
    escalated = any(isinstance(s, ToolCall) and s.name in escalation_tools for s in steps)
    return Trajectory(case_id=case_id, trial=trial, steps=steps, final_answer=final, escalated=escalated)
