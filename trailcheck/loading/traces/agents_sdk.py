"""OpenAI Agents SDK traces: what a `TracingProcessor` exports, one JSON object per line.

Records are ``trace.export()`` (``"object": "trace"``: workflow name, ``group_id``, metadata) and
``span.export()`` (``"object": "trace.span"``). ``generation`` spans carry the chat messages a
model was given and answered (chat-completions models) and their ``usage``; ``function`` spans carry
each tool call's name, input, output and timing, and an ``error`` when the tool failed. With the
Responses model the export holds no message content: the conversation is then rebuilt from the
function spans (tool calls, results, errors), without the user's and the agent's text.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trailcheck.loading.traces._convert import parse_time, seconds_between
from trailcheck.loading.traces.base import (
    CONVERSION_ERRORS,
    BadRecord,
    ReadOptions,
    ReadTrace,
    Record,
    conversion_problem,
)
from trailcheck.loading.traces.framing import NotJson
from trailcheck.loading.traces.transcript import Message, ToolSpan, attach_tools, merge_call
from trailcheck.models import Trace
from trailcheck.models.trajectory import TokenUsage

FIX = "give the JSON of trace.export() and span.export() from a TracingProcessor, one object per line"


def _error(span: dict[str, Any]) -> str | None:
    error = span.get("error")
    if not isinstance(error, dict):
        return None
    detail = (error.get("data") or {}).get("error") if isinstance(error.get("data"), dict) else None
    return ": ".join(str(x) for x in (error.get("message"), detail) if x) or "error"


def _start_ns(span: dict[str, Any]) -> int:
    moment = parse_time(span.get("started_at"))
    return int(moment.timestamp() * 1e9) if moment else 0


def _tool(span: dict[str, Any]) -> ToolSpan:
    data = span["span_data"]
    return ToolSpan(
        name=str(data.get("name")),
        call_id=None,
        args=data.get("input"),
        result=data.get("output"),
        error=_error(span),
        latency_s=seconds_between(span.get("started_at"), span.get("ended_at")),
        start_ns=_start_ns(span),
    )


def trace_from_export(
    trace_id: str, header: dict[str, Any], spans: list[dict[str, Any]], options: ReadOptions
) -> Trace | None:
    """One exported trace as a Trace; None when it has neither a generation nor a function span."""
    spans.sort(key=_start_ns)
    transcript: list[Message] = []
    tools: list[ToolSpan] = []
    tokens = [0, 0]
    model = None
    for span in spans:
        data = span.get("span_data") or {}
        if data.get("type") == "generation":
            inputs = [m for m in data.get("input") or [] if isinstance(m, dict)]
            outputs = [m for m in data.get("output") or [] if isinstance(m, dict)]
            transcript = merge_call(transcript, inputs, outputs)
            model = data.get("model") or model
        if data.get("type") in ("generation", "response"):
            usage = data.get("usage") or {}
            tokens[0] += int(usage.get("input_tokens") or 0)
            tokens[1] += int(usage.get("output_tokens") or 0)
        elif data.get("type") == "function":
            tools.append(_tool(span))
    if not transcript and not tools:
        return None
    transcript = [dict(m) for m in transcript]
    attach_tools(transcript, tools)
    found = header.get("metadata")
    metadata: dict[str, Any] = found if isinstance(found, dict) else {}
    task_type = metadata.get(options.task_type_attribute) or metadata.get("task_type")
    return Trace(
        messages=transcript,
        trace_id=trace_id,
        task_type=str(task_type) if task_type else None,
        timestamp=parse_time(spans[0].get("started_at")) if spans else None,
        tokens=TokenUsage(input=tokens[0], output=tokens[1]),
        model=model,
        session_id=header.get("group_id"),
        workflow=header.get("workflow_name"),
    )


class AgentsSdkReader:
    """OpenAI Agents SDK tracing export (trace and span objects, JSON Lines)."""

    name = "agents-sdk"
    description = "OpenAI Agents SDK tracing export: trace.export() and span.export() objects, one per line"
    binary = False

    def sniff(self, value: Any) -> bool:
        """A trace or span export object."""
        return isinstance(value, dict) and value.get("object") in ("trace", "trace.span")

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """Read every record, then one trace per trace id, in the order each trace started."""
        headers: dict[str, dict[str, Any]] = {}
        spans: dict[str, list[dict[str, Any]]] = defaultdict(list)
        lines: dict[str, int] = {}
        for record in records:
            value = record.value
            if isinstance(value, NotJson) or not self.sniff(value):
                problem = (
                    f"not valid JSON: {value.error}"
                    if isinstance(value, NotJson)
                    else "not a trace or span export"
                )
                yield BadRecord(path, record.line, "", problem, FIX)
                continue
            trace_id = str(value.get("id") if value["object"] == "trace" else value.get("trace_id"))
            lines.setdefault(trace_id, record.line)
            if value["object"] == "trace":
                headers[trace_id] = value
            elif isinstance(value.get("span_data"), dict):
                spans[trace_id].append(value)
        for trace_id in sorted(lines, key=lines.__getitem__):
            try:
                trace = trace_from_export(
                    trace_id, headers.get(trace_id, {}), spans.get(trace_id, []), options
                )
            except CONVERSION_ERRORS as exc:
                yield BadRecord(path, lines[trace_id], f"trace {trace_id}", conversion_problem(exc), FIX)
                continue
            if trace is not None:
                yield ReadTrace(lines[trace_id], trace)
