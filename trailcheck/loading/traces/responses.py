"""OpenAI Responses API items: a conversation as ``input`` items plus ``output`` items.

A record is a list of items (what ``result.to_input_list()`` of the Agents SDK returns, or a
Responses ``input`` followed by the ``output`` items), or one Response object (``"object":
"response"``: its ``output`` items and ``usage``). Items: ``message`` (role, text content parts),
``function_call`` (``call_id``, ``name``, ``arguments``), ``function_call_output`` (``call_id``,
``output``). Reasoning and other item types are not conversation turns and are left out.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trailcheck.loading.traces._convert import as_content
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

FIX = "give a JSON list of Responses items (or a Response object) per line"
_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output", "reasoning"})


def _text(content: Any) -> str | None:
    if isinstance(content, str) or content is None:
        return content
    texts = [str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p]
    return "\n".join(texts) if texts else None


def chat_from_items(items: list[Any]) -> list[Message]:
    """Responses items as chat messages."""
    out: list[Message] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message" and item.get("role"):
            out.append({"role": item["role"], "content": _text(item.get("content"))})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
            }
            last = out[-1] if out else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": as_content(item.get("output")),
                }
            )
    return out


class ResponsesReader:
    """OpenAI Responses API items or Response objects."""

    name = "openai-responses"
    description = "OpenAI Responses API items (a list per line) or Response objects"
    binary = False

    def sniff(self, value: Any) -> bool:
        """A Response object, or a list holding a function_call / typed message item."""
        if isinstance(value, dict):
            return value.get("object") == "response" and isinstance(value.get("output"), list)
        return (
            isinstance(value, list)
            and any(isinstance(i, dict) and i.get("type") in _ITEM_TYPES for i in value)
            and all(isinstance(i, dict) and "parts" not in i for i in value)
        )

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """One trace per record."""
        for record in records:
            value = record.value
            if isinstance(value, NotJson) or not self.sniff(value):
                problem = (
                    f"not valid JSON: {value.error}" if isinstance(value, NotJson) else "not Responses items"
                )
                yield BadRecord(path, record.line, "", problem, FIX)
                continue
            items = value["output"] if isinstance(value, dict) else value
            usage = (value.get("usage") or {}) if isinstance(value, dict) else {}
            try:
                trace = Trace(
                    messages=chat_from_items(items),
                    trace_id=str(value.get("id")) if isinstance(value, dict) else f"line-{record.line}",
                    tokens=TokenUsage(
                        input=int(usage.get("input_tokens") or 0), output=int(usage.get("output_tokens") or 0)
                    ),
                    model=value.get("model") if isinstance(value, dict) else None,
                )
            except ValidationError as exc:
                yield BadRecord(path, record.line, "", str(exc).splitlines()[0], FIX)
                continue
            except CONVERSION_ERRORS as exc:
                yield BadRecord(path, record.line, "", conversion_problem(exc), FIX)
                continue
            yield ReadTrace(record.line, trace)
