"""Building one conversation from many model calls, and putting tool executions onto it.

A trace records each model call with the history it was given; the conversation is the longest
such history plus the model's answer, and tool-execution records (spans) add each call's latency
and failure to the tool message that answered it (by call id, else by tool name in order).
"""

import json
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]


@dataclass
class ToolSpan:
    """What a tool-execution record says about one call."""

    name: str
    call_id: str | None
    args: Any
    result: Any
    error: str | None
    latency_s: float | None
    start_ns: int


def merge_call(transcript: list[Message], inputs: list[Message], outputs: list[Message]) -> list[Message]:
    """The conversation after one more model call (calls in start order)."""
    if len(inputs) >= len(transcript):
        return [*inputs, *outputs]
    return [*transcript, *outputs]  # the agent trimmed its history: keep what came before


def _tool_messages_by_call(transcript: list[Message]) -> tuple[dict[str, Message], list[tuple[str, Message]]]:
    names: dict[str, str] = {}
    for message in transcript:
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict):
                names[str(call.get("id"))] = str((call.get("function") or {}).get("name"))
    by_id: dict[str, Message] = {}
    ordered: list[tuple[str, Message]] = []
    for message in transcript:
        if message.get("role") == "tool":
            key = str(message.get("tool_call_id"))
            by_id[key] = message
            ordered.append((names.get(key, ""), message))
    return by_id, ordered


def attach_tools(transcript: list[Message], tools: list[ToolSpan]) -> None:
    """Each tool span's latency and failure onto the tool message answering its call."""
    by_id, ordered = _tool_messages_by_call(transcript)
    used: set[int] = set()
    for tool in sorted(tools, key=lambda t: t.start_ns):
        message = by_id.get(str(tool.call_id)) if tool.call_id else None
        if message is None:
            message = next((m for name, m in ordered if name == tool.name and id(m) not in used), None)
        if message is None:
            if not transcript or all(m.get("role") == "system" for m in transcript):
                _append_call(transcript, tool)  # content capture off for the model: the tool span tells
            continue
        used.add(id(message))
        message["latency_s"] = tool.latency_s
        if tool.error:
            message["error"] = tool.error


def _append_call(transcript: list[Message], tool: ToolSpan) -> None:
    call_id = str(tool.call_id or f"span-{tool.start_ns}")
    arguments = tool.args if isinstance(tool.args, str) else json.dumps(tool.args or {})
    function = {"name": tool.name, "arguments": arguments}
    transcript.append(
        {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "function": function}]}
    )
    result = tool.result if isinstance(tool.result, str) or tool.result is None else json.dumps(tool.result)
    message: Message = {
        "role": "tool",
        "tool_call_id": call_id,
        "content": result,
        "latency_s": tool.latency_s,
    }
    if tool.error:
        message["error"] = tool.error
    transcript.append(message)
