"""Anthropic Messages: ``messages`` with content blocks (``text``, ``tool_use``, ``tool_result``).

A record is a Messages request body (``{"model": ..., "messages": [...]}``, optionally with the
final ``response`` Message under that key), a list of messages, or one Message response
(``"type": "message"``). ``tool_use`` blocks are tool calls (``input`` is the arguments);
``tool_result`` blocks answer them, ``is_error: true`` marking a failed call. Tokens come from
``usage`` (``input_tokens``, ``output_tokens``) where the record has it.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trailcheck.loading.traces._convert import as_content, as_json_text
from trailcheck.loading.traces.base import (
    CONVERSION_ERRORS,
    BadRecord,
    ReadOptions,
    ReadTrace,
    Record,
    conversion_problem,
)
from trailcheck.loading.traces.framing import NotJson
from trailcheck.loading.traces.transcript import Message
from trailcheck.models import Trace
from trailcheck.models.trajectory import TokenUsage

FIX = 'give {"messages": [...]} with Anthropic content blocks (or a list of messages) per line'
_BLOCKS = frozenset({"tool_use", "tool_result"})


def _blocks(message: Any) -> list[dict[str, Any]]:
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _result_text(content: Any) -> str | None:
    if isinstance(content, list):
        return "\n".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return as_content(content)


def chat_from_messages(messages: list[Any]) -> list[Message]:
    """Anthropic messages as chat messages (a user message of tool results becomes tool messages)."""
    out: list[Message] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
            continue
        blocks = _blocks(message)
        texts = [str(b.get("text", "")) for b in blocks if b.get("type") == "text"]
        for block in blocks:
            if block.get("type") == "tool_result":
                tool: Message = {
                    "role": "tool",
                    "tool_call_id": block.get("tool_use_id"),
                    "content": _result_text(block.get("content")),
                }
                if block.get("is_error"):
                    tool["error"] = tool["content"] or "is_error"
                out.append(tool)
        calls = [
            {
                "id": b.get("id"),
                "type": "function",
                "function": {"name": b.get("name"), "arguments": as_json_text(b.get("input"))},
            }
            for b in blocks
            if b.get("type") == "tool_use"
        ]
        if texts or calls:
            chat: Message = {"role": role, "content": "\n".join(texts) if texts else None}
            if calls:
                chat["tool_calls"] = calls
            out.append(chat)
    return out


def _usage(value: dict[str, Any]) -> TokenUsage:
    used = [0, 0]
    for source in (value, value.get("response")):
        usage = source.get("usage") if isinstance(source, dict) else None
        if isinstance(usage, dict):
            used[0] += int(usage.get("input_tokens") or 0)
            used[1] += int(usage.get("output_tokens") or 0)
    return TokenUsage(input=used[0], output=used[1])


class AnthropicReader:
    """Anthropic Messages API conversations."""

    name = "anthropic"
    description = "Anthropic Messages: a request body with messages of content blocks, or a Message, per line"
    binary = False

    def sniff(self, value: Any) -> bool:
        """Messages holding tool_use / tool_result blocks, or a Message response."""
        if (
            isinstance(value, dict)
            and value.get("type") == "message"
            and isinstance(value.get("content"), list)
        ):
            return True
        messages = value.get("messages") if isinstance(value, dict) else value
        if not isinstance(messages, list):
            return False
        return any(b.get("type") in _BLOCKS for m in messages[:50] for b in _blocks(m))

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """One trace per record."""
        for record in records:
            value = record.value
            if isinstance(value, NotJson):
                yield BadRecord(path, record.line, "", f"not valid JSON: {value.error}", FIX)
                continue
            if isinstance(value, dict) and value.get("type") == "message":
                messages, meta = [value], value
            elif isinstance(value, dict) and isinstance(value.get("messages"), list):
                messages = list(value["messages"])
                if isinstance(value.get("response"), dict):
                    messages.append(value["response"])
                meta = value
            elif isinstance(value, list):
                messages, meta = value, {}
            else:
                yield BadRecord(path, record.line, "", "not an Anthropic conversation", FIX)
                continue
            found = meta.get("response")
            response: dict[str, Any] = found if isinstance(found, dict) else meta
            try:
                trace = Trace(
                    messages=chat_from_messages(messages),
                    trace_id=str(meta.get("trace_id") or response.get("id") or f"line-{record.line}"),
                    tokens=_usage(meta) if meta else None,
                    model=meta.get("model") or response.get("model"),
                    task_type=meta.get("task_type"),
                )
            except ValidationError as exc:
                yield BadRecord(path, record.line, "", str(exc).splitlines()[0], FIX)
                continue
            except CONVERSION_ERRORS as exc:
                yield BadRecord(path, record.line, "", conversion_problem(exc), FIX)
                continue
            yield ReadTrace(record.line, trace)
