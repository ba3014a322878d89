"""LangChain / LangSmith run trees: runs (``run_type`` chain, llm, tool) as exported to JSON.

A record is a run tree (a root run with nested ``child_runs``, as a `RunTree` or a LangChain
tracer holds it) or one flat run (as LangSmith's ``list_runs`` export gives them, linked by
``trace_id`` / ``parent_run_id``); runs are grouped by trace. The conversation is the root run's
input (the user's turn), each tool run in start order (its ``inputs`` are the arguments, its
output the result; ``error`` or a ToolMessage ``status: "error"`` a failed call, its start and end
the latency) and the final output. Tokens are summed over llm runs (``token_usage`` or
``usage_metadata``); ``extra.metadata`` gives the task type, model (``ls_model_name``) and session
(``thread_id``, ``session_id`` or ``conversation_id``).
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trailcheck.loading.traces._convert import as_content, as_json_text, parse_time, seconds_between
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

FIX = "give run trees (a root run with child_runs) or flat runs with trace_id, one JSON object per line"
Run = dict[str, Any]


def _flatten(run: Run, out: list[Run]) -> None:
    out.append(run)
    for child in run.get("child_runs") or []:
        if isinstance(child, dict):
            _flatten(child, out)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("input", "question", "query", "output", "answer", "content", "text"):
            if isinstance(value.get(key), str):
                return str(value[key])
        strings = [v for v in value.values() if isinstance(v, str)]
        return strings[0] if len(strings) == 1 else None
    return None


def _tool_output(run: Run) -> tuple[Any, str | None, str | None]:
    """The result, the call id and an error, from a tool run's outputs."""
    output = (run.get("outputs") or {}).get("output", run.get("outputs"))
    call_id = None
    error = run.get("error") or None
    if isinstance(output, dict) and ("tool_call_id" in output or output.get("type") == "tool"):
        call_id = output.get("tool_call_id")
        if output.get("status") == "error":
            error = error or as_content(output.get("content")) or "error"
        output = output.get("content")
    return output, call_id, str(error) if error else None


def _llm_tokens(run: Run) -> tuple[int, int]:
    outputs = run.get("outputs") or {}
    usage = (
        (outputs.get("llm_output") or {}).get("token_usage")
        if isinstance(outputs.get("llm_output"), dict)
        else None
    )
    if not usage:
        for generation in [g for batch in outputs.get("generations") or [] for g in batch]:
            kwargs = ((generation or {}).get("message") or {}).get("kwargs") or {}
            meta = kwargs.get("usage_metadata") or {}
            if meta:
                return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)
            usage = (kwargs.get("response_metadata") or {}).get("token_usage")
    usage = usage or {}
    return int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0), int(
        usage.get("completion_tokens") or usage.get("output_tokens") or 0
    )


def trace_from_runs(trace_id: str, runs: list[Run], options: ReadOptions) -> Trace | None:
    """One trace's runs as a Trace; None when it has neither an llm nor a tool run."""
    runs.sort(key=lambda r: str(r.get("start_time") or ""))
    root = next((r for r in runs if not r.get("parent_run_id")), runs[0])
    llms = [r for r in runs if r.get("run_type") == "llm"]
    tools = [r for r in runs if r.get("run_type") == "tool"]
    if not llms and not tools:
        return None
    messages: list[Message] = []
    question = _text(root.get("inputs"))
    if question:
        messages.append({"role": "user", "content": question})
    for number, run in enumerate(tools):
        result, call_id, error = _tool_output(run)
        call_id = call_id or f"run-{number}"
        function = {"name": run.get("name"), "arguments": as_json_text(run.get("inputs") or {})}
        messages.append(
            {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "function": function}]}
        )
        tool: Message = {"role": "tool", "tool_call_id": call_id, "content": as_content(result)}
        latency = seconds_between(run.get("start_time"), run.get("end_time"))
        if latency is not None:
            tool["latency_s"] = latency
        if error:
            tool["error"] = error
        messages.append(tool)
    answer = _text(root.get("outputs"))
    if answer:
        messages.append({"role": "assistant", "content": answer})
    tokens = [sum(_llm_tokens(r)[0] for r in llms), sum(_llm_tokens(r)[1] for r in llms)]
    metadata = (root.get("extra") or {}).get("metadata") or {}
    model = next(((r.get("extra") or {}).get("metadata", {}).get("ls_model_name") for r in llms), None)
    task = metadata.get(options.task_type_attribute) or metadata.get("task_type")
    session = metadata.get("thread_id") or metadata.get("session_id") or metadata.get("conversation_id")
    return Trace(
        messages=messages,
        trace_id=trace_id,
        task_type=str(task) if task else None,
        timestamp=parse_time(root.get("start_time")),
        tokens=TokenUsage(input=tokens[0], output=tokens[1]),
        model=model,
        session_id=session,
    )


class LangSmithReader:
    """LangChain/LangSmith runs, as run trees or flat runs."""

    name = "langsmith"
    description = (
        "LangChain/LangSmith runs as JSON: run trees (child_runs) or flat runs with trace_id, per line"
    )
    binary = False

    def sniff(self, value: Any) -> bool:
        """A run: an object with ``run_type`` and ``inputs``."""
        return isinstance(value, dict) and "run_type" in value and "inputs" in value

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """Read every run, then one trace per trace id, in file order."""
        by_trace: dict[str, list[Run]] = defaultdict(list)
        lines: dict[str, int] = {}
        for record in records:
            value = record.value
            if isinstance(value, NotJson) or not self.sniff(value):
                problem = f"not valid JSON: {value.error}" if isinstance(value, NotJson) else "not a run"
                yield BadRecord(path, record.line, "", problem, FIX)
                continue
            flat: list[Run] = []
            _flatten(value, flat)
            trace_id = str(value.get("trace_id") or value.get("id"))
            lines.setdefault(trace_id, record.line)
            by_trace[trace_id].extend(flat)
        for trace_id in sorted(lines, key=lines.__getitem__):
            try:
                trace = trace_from_runs(trace_id, by_trace[trace_id], options)
            except CONVERSION_ERRORS as exc:
                yield BadRecord(path, lines[trace_id], f"trace {trace_id}", conversion_problem(exc), FIX)
                continue
            if trace is not None:
                yield ReadTrace(lines[trace_id], trace)
