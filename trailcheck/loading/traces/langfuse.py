"""Langfuse's OpenTelemetry spans (the Langfuse Python SDK v3+, its OpenAI wrapper and observations).

Every observation is a span with ``langfuse.observation.type`` (``generation``, ``tool``, ``agent``,
``span``...), ``langfuse.observation.input`` / ``.output`` (JSON), ``.model.name``,
``.usage_details`` (JSON: ``prompt_tokens``/``completion_tokens`` or ``input``/``output``) and, on a
failure, ``.level = ERROR`` with ``.status_message``. A generation's input is the chat request
(``{"messages": [...]}``) or the messages; its output the assistant message. ``session.id`` is
the session.
"""

import json
from typing import Any

from trailcheck.loading.traces.genai import span_error
from trailcheck.loading.traces.otlp_decode import Span
from trailcheck.loading.traces.transcript import Message, ToolSpan

TYPE = "langfuse.observation.type"


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def is_langfuse(span: Span) -> bool:
    """A span written by the Langfuse SDK."""
    return TYPE in span.attrs


def is_llm(span: Span) -> bool:
    """A generation."""
    return span.attrs.get(TYPE) == "generation"


def is_tool(span: Span) -> bool:
    """A tool observation."""
    return span.attrs.get(TYPE) == "tool"


def llm_messages(span: Span) -> tuple[list[Message], list[Message]] | None:
    """A generation's input messages and its output message, in chat format."""
    request = _json(span.attrs.get("langfuse.observation.input"))
    messages = request.get("messages") if isinstance(request, dict) else request
    output = _json(span.attrs.get("langfuse.observation.output"))
    inputs = [dict(m) for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
    if isinstance(output, dict):
        outputs = [{"role": "assistant", **output}]
    elif isinstance(output, str):
        outputs = [{"role": "assistant", "content": output}]
    else:
        outputs = []
    return (inputs, outputs) if inputs or outputs else None


def tool_span(span: Span) -> ToolSpan:
    """The call a tool observation records."""
    attrs = span.attrs
    error = span_error(span)
    if attrs.get("langfuse.observation.level") == "ERROR":
        error = str(attrs.get("langfuse.observation.status_message") or error or "ERROR")
    return ToolSpan(
        name=span.name,
        call_id=None,
        args=_json(attrs.get("langfuse.observation.input")),
        result=attrs.get("langfuse.observation.output"),
        error=error,
        latency_s=span.latency_s,
        start_ns=span.start_ns,
    )


def usage(span: Span) -> tuple[int, int]:
    """Input and output tokens of a generation."""
    details = _json(span.attrs.get("langfuse.observation.usage_details"))
    if not isinstance(details, dict):
        return 0, 0
    given = details.get("prompt_tokens", details.get("input"))
    answered = details.get("completion_tokens", details.get("output"))
    return int(given or 0), int(answered or 0)


def model(span: Span) -> str | None:
    """The model name."""
    value = span.attrs.get("langfuse.observation.model.name")
    return str(value) if value else None


def session(span: Span) -> str | None:
    """The session."""
    value = span.attrs.get("session.id")
    return str(value) if value else None


def cost(span: Span) -> float | None:
    """The total cost Langfuse's SDK recorded, if any."""
    details = _json(span.attrs.get("langfuse.observation.cost_details"))
    total = details.get("total") if isinstance(details, dict) else None
    return float(total) if isinstance(total, int | float) else None
