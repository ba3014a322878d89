"""OpenInference span attributes (Phoenix, Arize): LLM and TOOL spans into chat messages.

Messages are flattened attributes, ``llm.input_messages.<i>.message.role``, ``.content``,
``.contents.<j>.message_content.text``, ``.tool_calls.<k>.tool_call.id`` /
``.function.name`` / ``.function.arguments`` and ``.tool_call_id`` on tool messages; the same under
``llm.output_messages``. Tokens are ``llm.token_count.prompt`` / ``.completion``, the model
``llm.model_name``, the conversation ``session.id``. A TOOL span carries ``tool.name``,
``tool.parameters`` (or ``input.value``) and ``output.value``.
"""

import json
from typing import Any

from trailcheck.loading.traces.genai import span_error
from trailcheck.loading.traces.otlp_decode import Span
from trailcheck.loading.traces.transcript import Message, ToolSpan

KIND = "openinference.span.kind"


def _unflatten(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """``prefix.<i>.a.b`` keys as a list (by i) of nested dicts."""
    items: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix) :].partition(".")
        if not index.isdigit() or not rest:
            continue
        node = items.setdefault(int(index), {})
        parts = rest.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return [items[i] for i in sorted(items)]


def _message(attrs: dict[str, Any], base: str) -> Message:
    role = attrs.get(f"{base}.message.role")
    content = attrs.get(f"{base}.message.content")
    if content is None:
        texts = [
            str(item.get("message_content", {}).get("text", ""))
            for item in _unflatten(attrs, f"{base}.message.contents.")
            if item.get("message_content", {}).get("type", "text") == "text"
        ]
        content = "\n".join(texts) if texts else None
    message: Message = {"role": role, "content": content}
    calls = [
        {
            "id": call.get("tool_call", {}).get("id"),
            "type": "function",
            "function": {
                "name": call.get("tool_call", {}).get("function", {}).get("name"),
                "arguments": call.get("tool_call", {}).get("function", {}).get("arguments") or "{}",
            },
        }
        for call in _unflatten(attrs, f"{base}.message.tool_calls.")
    ]
    if calls:
        message["tool_calls"] = calls
    if role == "tool":
        message["tool_call_id"] = attrs.get(f"{base}.message.tool_call_id")
    return message


def _messages(attrs: dict[str, Any], prefix: str) -> list[Message]:
    indices = sorted(
        {
            int(head)
            for k in attrs
            if k.startswith(prefix) and (head := k[len(prefix) :].split(".", 1)[0]).isdigit()
        }
    )
    return [_message(attrs, f"{prefix}{i}") for i in indices]


def is_openinference(span: Span) -> bool:
    """A span written by an OpenInference instrumentation."""
    return KIND in span.attrs


def is_llm(span: Span) -> bool:
    """An OpenInference LLM span."""
    return span.attrs.get(KIND) == "LLM"


def is_tool(span: Span) -> bool:
    """An OpenInference TOOL span."""
    return span.attrs.get(KIND) == "TOOL"


def llm_messages(span: Span) -> tuple[list[Message], list[Message]] | None:
    """An LLM span's input and output messages in chat format."""
    inputs = _messages(span.attrs, "llm.input_messages.")
    outputs = _messages(span.attrs, "llm.output_messages.")
    return (inputs, outputs) if inputs or outputs else None


def tool_span(span: Span) -> ToolSpan:
    """The call a TOOL span records."""
    attrs = span.attrs
    raw_args = attrs.get("tool.parameters") or attrs.get("input.value")
    try:
        args = json.loads(raw_args) if isinstance(raw_args, str) else raw_args
    except json.JSONDecodeError:
        args = raw_args
    return ToolSpan(
        name=str(attrs.get("tool.name") or span.name),
        call_id=attrs.get("tool_call.id") or attrs.get("tool.id"),
        args=args,
        result=attrs.get("output.value"),
        error=span_error(span),
        latency_s=span.latency_s,
        start_ns=span.start_ns,
    )


def usage(span: Span) -> tuple[int, int]:
    """Prompt and completion tokens of an LLM span."""
    attrs = span.attrs
    return int(attrs.get("llm.token_count.prompt") or 0), int(attrs.get("llm.token_count.completion") or 0)


def model(span: Span) -> str | None:
    """The model name."""
    value = span.attrs.get("llm.model_name")
    return str(value) if value else None


def session(span: Span) -> str | None:
    """The session the span belongs to."""
    value = span.attrs.get("session.id")
    return str(value) if value else None


def cost(span: Span) -> float | None:
    """The USD cost an instrumentation recorded, if any."""
    value = span.attrs.get("llm.cost.total")
    return float(value) if isinstance(value, int | float) else None
