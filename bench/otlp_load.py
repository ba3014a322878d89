"""A local OTLP/HTTP load generator: GenAI agent traces at a fixed span rate, every ack recorded.

Each trace is one agent turn: a root ``invoke_agent`` span, two ``chat`` spans with their messages
and a failing ``execute_tool`` span (4 spans), sent as OTLP/JSON requests of `traces_per_request`
traces. A request is counted as acknowledged only on a 200; a 429 is retried after its
Retry-After, as an OTLP exporter does. Used by bench/collect.py and tests/test_collect.py.
"""

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

SPANS_PER_TRACE = 4


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, value in values.items():
        if isinstance(value, bool):
            wrapped: dict[str, Any] = {"boolValue": value}
        elif isinstance(value, int):
            wrapped = {"intValue": str(value)}
        else:
            wrapped = {"stringValue": str(value)}
        out.append({"key": key, "value": wrapped})
    return out


def trace_spans(trace_id: str, start_ns: int) -> list[dict[str, Any]]:
    """The four spans of one synthetic agent turn."""
    root, chat1, tool, chat2 = (f"{trace_id[:8]}{i:08x}" for i in range(1, 5))
    user = [{"role": "user", "parts": [{"type": "text", "content": "Refund order A1001"}]}]
    call = {"type": "tool_call", "id": "c1", "name": "issue_refund", "arguments": {"order_id": "A1001"}}
    answer = [{"role": "assistant", "parts": [call]}]
    result = [
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "Error: 503"}]}
    ]
    final = [
        {"role": "assistant", "parts": [{"type": "text", "content": "The refund failed; I opened a ticket."}]}
    ]

    def span(
        span_id: str, parent: str, name: str, offset_ms: int, ms: int, attrs: dict[str, Any]
    ) -> dict[str, Any]:
        begin = start_ns + offset_ms * 1_000_000
        return {
            "traceId": trace_id,
            "spanId": span_id,
            "parentSpanId": parent,
            "name": name,
            "kind": 3,
            "startTimeUnixNano": str(begin),
            "endTimeUnixNano": str(begin + ms * 1_000_000),
            "attributes": _attrs(attrs),
            "status": {"code": 2, "message": "HTTP 503"} if name.startswith("execute_tool") else {},
        }

    chat = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 30}
    return [
        span(chat1, root, "chat m", 1, 40, chat | {
            "gen_ai.usage.output_tokens": 8,
            "gen_ai.input.messages": json.dumps(user),
            "gen_ai.output.messages": json.dumps(answer),
        }),
        span(tool, root, "execute_tool issue_refund", 42, 5, {
            "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "issue_refund",
            "gen_ai.tool.call.id": "c1",
        }),
        span(chat2, root, "chat m", 48, 30, chat | {
            "gen_ai.usage.output_tokens": 12,
            "gen_ai.input.messages": json.dumps(user + answer + result),
            "gen_ai.output.messages": json.dumps(final),
        }),
        span(root, "", "invoke_agent desk", 0, 80, {
            "gen_ai.operation.name": "invoke_agent", "trailcheck.task_type": "refund",
        }),
    ]  # fmt: skip


def request_body(trace_ids: list[str], start_ns: int) -> bytes:
    """One OTLP/JSON ExportTraceServiceRequest holding the spans of `trace_ids`."""
    spans = [s for t in trace_ids for s in trace_spans(t, start_ns)]
    resource = {"attributes": _attrs({"service.name": "load"})}
    request = {
        "resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": {"name": "load"}, "spans": spans}]}]
    }
    return json.dumps(request).encode()


@dataclass
class LoadResult:
    """What the generator sent and what was acknowledged."""

    acked_traces: list[str] = field(default_factory=list)
    sent_requests: int = 0
    throttled: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def acked_spans(self) -> int:
        """Spans in acknowledged requests."""
        return len(self.acked_traces) * SPANS_PER_TRACE


def run_load(
    url: str,
    spans_per_s: float,
    duration_s: float,
    traces_per_request: int = 25,
    workers: int = 4,
    stop: threading.Event | None = None,
) -> LoadResult:
    """Send traces to `url` (``.../v1/traces``) at `spans_per_s` for `duration_s`, from `workers` threads."""
    result = LoadResult()
    lock = threading.Lock()
    stop = stop or threading.Event()
    requests_per_s = spans_per_s / (SPANS_PER_TRACE * traces_per_request)
    interval = workers / requests_per_s
    began = time.monotonic()
    prefix = os.urandom(4).hex()

    def worker(index: int) -> None:
        client = httpx.Client(timeout=10.0, headers={"content-type": "application/json"})
        n = 0
        next_at = began + index * interval / workers
        try:
            while not stop.is_set() and time.monotonic() - began < duration_s:
                pause = next_at - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                next_at += interval
                ids = [f"{prefix}{index:04x}{n:012x}{k:08x}" for k in range(traces_per_request)]
                n += 1
                body = request_body(ids, time.time_ns())
                while not stop.is_set():
                    try:
                        response = client.post(url, content=body)
                    except httpx.TransportError:
                        with lock:
                            result.failed += 1
                        break  # the receiver is gone (killed): this request was never acknowledged
                    with lock:
                        result.sent_requests += 1
                    if response.status_code == 429:
                        with lock:
                            result.throttled += 1
                        time.sleep(float(response.headers.get("retry-after", "1")))
                        continue
                    if response.status_code == 200:
                        with lock:
                            result.acked_traces.extend(ids)
                    else:
                        with lock:
                            result.failed += 1
                    break
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - began
    return result
