"""The OpenTelemetry GenAI semantic conventions: model and tool spans into chat messages.

Messages come in the encodings the conventions' versions in use define:

- attributes (semconv 1.37+): ``gen_ai.input.messages`` / ``gen_ai.output.messages`` /
  ``gen_ai.system_instructions`` on the span, JSON text or structured values, as parts
  (``text``, ``tool_call``, ``tool_call_response``);
- the ``gen_ai.client.inference.operation.details`` event (1.37+, a log record or span event)
  carrying the same attributes;
- per-message events (1.28-1.36): ``gen_ai.system.message``, ``gen_ai.user.message``,
  ``gen_ai.assistant.message``, ``gen_ai.tool.message`` and ``gen_ai.choice``, bodies in the
  OpenAI chat shape.

Tool executions are ``execute_tool`` spans (``gen_ai.tool.name``, ``gen_ai.tool.call.id``,
``gen_ai.tool.call.arguments`` / ``.result``); a tool span in error status, with an
``exception`` event or an ``error.type`` attribute is a failed call.
"""

import json
from typing import Any

from trailcheck.loading.traces.otlp_decode import STATUS_ERROR, Event, Span
from trailcheck.loading.traces.transcript import Message, ToolSpan

DETAILS_EVENT = "gen_ai.client.inference.operation.details"
_MESSAGE_EVENTS = {
    "gen_ai.system.message": "system",
    "gen_ai.user.message": "user",
    "gen_ai.assistant.message": "assistant",
    "gen_ai.tool.message": "tool",
}
LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _text(parts: list[Any]) -> str | None:
    texts = [str(p.get("content", "")) for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    return "\n".join(texts) if texts else None


def _arguments(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value if value is not None else {})


def chat_from_parts(messages: Any) -> list[Message]:
    """Convention messages (role + parts) as OpenAI chat messages."""
    out: list[Message] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict):
            continue
        role, parts = message.get("role"), message.get("parts") or []
        if role == "tool" or any(
            isinstance(p, dict) and p.get("type") == "tool_call_response" for p in parts
        ):
            for part in parts:
                if isinstance(part, dict) and part.get("type") == "tool_call_response":
                    response = part.get("response")
                    content = response if isinstance(response, str) else json.dumps(response)
                    out.append({"role": "tool", "tool_call_id": part.get("id"), "content": content})
            continue
        chat: Message = {"role": role, "content": _text(parts)}
        calls = [
            {
                "id": p.get("id"),
                "type": "function",
                "function": {"name": p.get("name"), "arguments": _arguments(p.get("arguments"))},
            }
            for p in parts
            if isinstance(p, dict) and p.get("type") == "tool_call"
        ]
        if calls:
            chat["tool_calls"] = calls
        out.append(chat)
    return out


def _from_attributes(attrs: dict[str, Any]) -> tuple[list[Message], list[Message]] | None:
    if "gen_ai.input.messages" not in attrs and "gen_ai.output.messages" not in attrs:
        return None
    inputs = chat_from_parts(_json(attrs.get("gen_ai.input.messages")))
    system = _json(attrs.get("gen_ai.system_instructions"))
    if isinstance(system, list) and system:
        inputs.insert(0, {"role": "system", "content": _text(system)})
    return inputs, chat_from_parts(_json(attrs.get("gen_ai.output.messages")))


def _from_message_events(events: list[Event]) -> tuple[list[Message], list[Message]] | None:
    inputs: list[Message] = []
    outputs: list[Message] = []
    for event in sorted(events, key=lambda e: e.time_ns):
        body = event.body if isinstance(event.body, dict) else {}
        if event.name in _MESSAGE_EVENTS:
            message: Message = {"role": _MESSAGE_EVENTS[event.name], "content": body.get("content")}
            if body.get("tool_calls"):
                message["tool_calls"] = body["tool_calls"]
            if message["role"] == "tool":
                message["tool_call_id"] = body.get("id")
            inputs.append(message)
        elif event.name == "gen_ai.choice":
            found = body.get("message")
            inner: dict[str, Any] = found if isinstance(found, dict) else {}
            message = {"role": "assistant", "content": inner.get("content")}
            if inner.get("tool_calls"):
                message["tool_calls"] = inner["tool_calls"]
            outputs.append(message)
    return (inputs, outputs) if inputs or outputs else None


def llm_messages(span: Span, events: list[Event]) -> tuple[list[Message], list[Message]] | None:
    """A model span's input and output messages in chat format, from whichever encoding it used."""
    found = _from_attributes(span.attrs)
    if found is not None:
        return found
    for event in events:
        if event.name == DETAILS_EVENT:
            found = _from_attributes(event.attrs)
            if found is not None:
                return found
    return _from_message_events(events)


def is_llm(span: Span) -> bool:
    """A model call: a chat/completion operation, or a span carrying input/output messages."""
    return span.attrs.get("gen_ai.operation.name") in LLM_OPERATIONS or "gen_ai.input.messages" in span.attrs


def is_tool(span: Span) -> bool:
    """A tool execution span."""
    return span.attrs.get("gen_ai.operation.name") == "execute_tool"


def span_error(span: Span) -> str | None:
    """Why the span failed (error status, exception event, ``error.type``), or None."""
    exception = next((e for e in span.events if e.name == "exception"), None)
    if exception is not None:
        kind = exception.attrs.get("exception.type")
        message = exception.attrs.get("exception.message")
        return ": ".join(str(x) for x in (kind, message) if x) or "exception"
    if span.status_code == STATUS_ERROR:
        return span.status_message or str(span.attrs.get("error.type") or "error status")
    if span.attrs.get("error.type"):
        return str(span.attrs["error.type"])
    return None


def tool_span(span: Span) -> ToolSpan:
    """The call a tool-execution span records."""
    attrs = span.attrs
    return ToolSpan(
        name=str(attrs.get("gen_ai.tool.name") or span.name.removeprefix("execute_tool ")),
        call_id=attrs.get("gen_ai.tool.call.id"),
        args=_json(attrs.get("gen_ai.tool.call.arguments")),
        result=attrs.get("gen_ai.tool.call.result"),
        error=span_error(span),
        latency_s=span.latency_s,
        start_ns=span.start_ns,
    )


def usage(span: Span) -> tuple[int, int]:
    """Input and output tokens of a model span."""
    attrs = span.attrs
    return int(attrs.get("gen_ai.usage.input_tokens") or 0), int(attrs.get("gen_ai.usage.output_tokens") or 0)


def model(span: Span) -> str | None:
    """The model that answered (or was asked)."""
    value = span.attrs.get("gen_ai.response.model") or span.attrs.get("gen_ai.request.model")
    return str(value) if value else None


def session(span: Span) -> str | None:
    """The conversation the span belongs to."""
    value = span.attrs.get("gen_ai.conversation.id")
    return str(value) if value else None
