"""pydantic-ai message history: the JSON of ``ModelMessagesTypeAdapter`` (``result.all_messages_json()``).

A file holds one history (a JSON array of requests and responses) or JSON Lines with one history
per line. Request parts: ``system-prompt``, ``user-prompt``, ``tool-return`` (``outcome`` other than
``success`` is a failed call) and ``retry-prompt`` (with a ``tool_name``: the tool raised
``ModelRetry`` or its arguments were invalid, a failed call). Response parts: ``text`` and
``tool-call``; each response's ``usage`` adds tokens and ``usage.cost`` the cost.
"""

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from trailcheck.loading.traces._convert import as_content, as_json_text, parse_time
from trailcheck.loading.traces.base import (
    CONVERSION_ERRORS,
    BadRecord,
    ReadOptions,
    ReadTrace,
    Record,
    conversion_problem,
)
from trailcheck.loading.traces.framing import NotJson
from trailcheck.models import Trace
from trailcheck.models.trajectory import TokenUsage

FIX = "give the JSON of ModelMessagesTypeAdapter.dump_json(result.all_messages()), one history per line"
Message = dict[str, Any]


def _request(parts: list[Any], out: list[Message]) -> None:
    for part in parts:
        kind = part.get("part_kind")
        if kind == "system-prompt":
            out.append({"role": "system", "content": as_content(part.get("content"))})
        elif kind == "user-prompt":
            content = part.get("content")
            if isinstance(content, list):
                content = "\n".join(c for c in content if isinstance(c, str))
            out.append({"role": "user", "content": content})
        elif kind == "tool-return":
            message = {
                "role": "tool",
                "tool_call_id": part.get("tool_call_id"),
                "content": as_content(part.get("content")),
            }
            if part.get("outcome") not in (None, "success"):
                message["error"] = f"{part.get('outcome')}: {as_content(part.get('content'))}"
            out.append(message)
        elif kind == "retry-prompt" and part.get("tool_name"):
            content = as_content(part.get("content"))
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": part.get("tool_call_id"),
                    "content": content,
                    "error": content,
                }
            )
        elif kind == "retry-prompt":
            out.append({"role": "user", "content": as_content(part.get("content"))})


def _response(parts: list[Any], out: list[Message]) -> None:
    texts = [str(p.get("content", "")) for p in parts if p.get("part_kind") == "text"]
    calls = [
        {
            "id": p.get("tool_call_id"),
            "type": "function",
            "function": {"name": p.get("tool_name"), "arguments": as_json_text(p.get("args"))},
        }
        for p in parts
        if p.get("part_kind") == "tool-call"
    ]
    message: Message = {"role": "assistant", "content": "\n".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    out.append(message)


def trace_from_history(history: list[Any], line: int) -> Trace:
    """One pydantic-ai history as a Trace (ValueError / ValidationError when it is not one)."""
    messages: list[Message] = []
    tokens = [0, 0]
    cost: float | None = None
    model = run_id = conversation = None
    for index, item in enumerate(history):
        if not isinstance(item, dict) or not isinstance(item.get("parts"), list):
            raise ValueError(f"[{index}]: a history item is an object with `kind` and `parts`")
        parts = [p for p in item["parts"] if isinstance(p, dict)]
        if item.get("kind") == "request":
            _request(parts, messages)
        elif item.get("kind") == "response":
            _response(parts, messages)
            usage = item.get("usage") or {}
            tokens[0] += int(usage.get("input_tokens") or usage.get("request_tokens") or 0)
            tokens[1] += int(usage.get("output_tokens") or usage.get("response_tokens") or 0)
            if isinstance(usage.get("cost"), int | float):
                cost = (cost or 0.0) + float(usage["cost"])
            model = item.get("model_name") or model
        run_id = run_id or item.get("run_id")
        conversation = conversation or item.get("conversation_id")
    first = history[0] if history and isinstance(history[0], dict) else {}
    return Trace(
        messages=messages,
        trace_id=run_id or f"line-{line}",
        timestamp=parse_time(first.get("timestamp")),
        tokens=TokenUsage(input=tokens[0], output=tokens[1]),
        cost=cost,
        model=model,
        session_id=conversation,
    )


class PydanticAiReader:
    """pydantic-ai ``ModelMessagesTypeAdapter`` JSON."""

    name = "pydantic-ai"
    description = "pydantic-ai message history (ModelMessagesTypeAdapter JSON), one history per line or file"
    binary = False

    def sniff(self, value: Any) -> bool:
        """A list of requests/responses with parts."""
        return (
            isinstance(value, list)
            and bool(value)
            and isinstance(value[0], dict)
            and value[0].get("kind") in ("request", "response")
            and "parts" in value[0]
        )

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """One trace per history."""
        for record in records:
            value = record.value
            if isinstance(value, NotJson):
                yield BadRecord(path, record.line, "", f"not valid JSON: {value.error}", FIX)
                continue
            if not self.sniff(value):
                yield BadRecord(path, record.line, "", "not a pydantic-ai message history", FIX)
                continue
            try:
                yield ReadTrace(record.line, trace_from_history(value, record.line))
            except ValidationError as exc:
                yield BadRecord(path, record.line, "", str(exc).splitlines()[0], FIX)
            except CONVERSION_ERRORS as exc:
                yield BadRecord(path, record.line, "", conversion_problem(exc), FIX)
