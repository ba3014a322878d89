"""The OTLP/HTTP receiver: ``POST /v1/traces`` (and ``/v1/logs``), JSON or protobuf, gzip allowed.

Each request is decoded, its attribute and body strings redacted (trailcheck/redaction.py) and
turned into one OTLP/JSON line (ids in hex); one writer thread appends the lines of every waiting
request to the store and fsyncs once for them all (group commit), and only then are those
requests answered 200. Nothing is acknowledged that is not on disk, so a crash loses only
unanswered requests, which OTLP exporters retry. The receiver holds no spans between requests
(memory is the requests in flight, bounded by `max_pending_bytes`): traces are assembled by the
reader, which waits for a trace to settle. Past `max_pending_bytes` waiting to be written it
answers 429 with ``Retry-After``, as the OTLP specification asks of an overloaded receiver.
"""

import asyncio
import base64
import contextlib
import gzip
import json
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from trailcheck.loading.sources.segment_store import SegmentStore
from trailcheck.redaction import Redactor

JSON = "application/json"
PROTOBUF = "application/x-protobuf"
_IDS = frozenset({"traceId", "spanId", "parentSpanId"})


@dataclass
class ReceiverSettings:
    """Where to store, and the limits."""

    store: Path
    max_pending_bytes: int = 64 * 1024 * 1024
    max_request_bytes: int = 16 * 1024 * 1024
    retry_after_s: int = 1
    segment_bytes: int = 64 * 1024 * 1024
    segment_age_s: float = 300.0
    redactor: Redactor = field(default_factory=Redactor)


@dataclass
class Stats:
    """What the receiver has done (exposed on ``GET /stats`` for load tests and health checks)."""

    requests: int = 0
    spans: int = 0
    rejected: int = 0
    bad: int = 0


def _hex(value: Any) -> Any:
    if isinstance(value, str) and len(value) in (12, 24):  # base64 of 8 or 16 bytes (protobuf's JSON)
        try:
            return base64.b64decode(value, validate=True).hex()
        except ValueError:
            return value
    return value


def _clean(node: Any, redactor: Redactor) -> Any:
    """Redact every string value (attributes, bodies) and write ids in hex; keys are left alone."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _IDS:
                out[key] = _hex(value)
            elif key == "stringValue" and isinstance(value, str):
                out[key] = redactor.text(value)
            else:
                out[key] = _clean(value, redactor)
        return out
    if isinstance(node, list):
        return [_clean(v, redactor) for v in node]
    return node


def _count_spans(request: dict[str, Any]) -> int:
    return sum(
        len(scope.get("spans") or []) + len(scope.get("logRecords") or [])
        for resource in (request.get("resourceSpans") or request.get("resourceLogs") or [])
        for scope in (resource.get("scopeSpans") or resource.get("scopeLogs") or [])
    )


def encode_request(body: bytes, content_type: str, logs: bool, redactor: Redactor) -> tuple[bytes, int]:
    """One request as a redacted OTLP/JSON line and its span count; ValueError if it is not OTLP."""
    if content_type.startswith(PROTOBUF):
        from google.protobuf.json_format import MessageToDict
        from google.protobuf.message import DecodeError
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        kind = ExportLogsServiceRequest if logs else ExportTraceServiceRequest
        try:
            request = MessageToDict(kind.FromString(body))
        except DecodeError as exc:
            raise ValueError(f"not an OTLP protobuf export: {exc}") from None
    else:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
    key = "resourceLogs" if logs else "resourceSpans"
    if not isinstance(request, dict) or not isinstance(request.get(key, []), list):
        raise ValueError(f"an OTLP export is an object with a {key} list")
    if not request.get(key):
        return b"", 0
    return orjson.dumps(_clean(request, redactor)) + b"\n", _count_spans(request)


class _Writer:
    """One thread that appends and fsyncs batches of lines, then wakes the requests that sent them."""

    def __init__(self, store: SegmentStore) -> None:
        self.store = store
        self.pending_bytes = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[bytes, asyncio.Future[None], asyncio.AbstractEventLoop] | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(target=self._run, name="trailcheck-collect-writer", daemon=True)
        self._thread.start()

    def submit(self, line: bytes) -> "asyncio.Future[None]":
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self.pending_bytes += len(line)
        self._queue.put((line, future, loop))
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                self.store.close()
                return
            batch = [item]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            error: BaseException | None = None
            try:
                self.store.append([line for line, _, _ in batch])
            except OSError as exc:
                error = exc
            with self._lock:
                self.pending_bytes -= sum(len(line) for line, _, _ in batch)
            for _, future, loop in batch:
                loop.call_soon_threadsafe(_settle, future, error)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)


def _settle(future: "asyncio.Future[None]", error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


def _answer(
    content_type: str, status: int = 200, message: str = "", headers: dict[str, str] | None = None
) -> Response:
    if status == 200:
        if content_type.startswith(PROTOBUF):
            return Response(b"", media_type=PROTOBUF)  # an empty Export*ServiceResponse
        return Response(b"{}", media_type=JSON)
    body = json.dumps({"code": status, "message": message})
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _lifespan(writer: _Writer) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        writer.stop()  # the last batch is written and the open segment closed

    return lifespan


def build_receiver(settings: ReceiverSettings) -> Starlette:
    """The receiver as an ASGI app (serve it with uvicorn; `trailcheck collect` does)."""
    store = SegmentStore(settings.store, settings.segment_bytes, settings.segment_age_s)
    writer = _Writer(store)
    stats = Stats()

    async def export(request: Request) -> Response:
        content_type = request.headers.get("content-type", JSON)
        if writer.pending_bytes > settings.max_pending_bytes:
            stats.rejected += 1
            retry = {"Retry-After": str(settings.retry_after_s)}
            return _answer(content_type, 429, "the store is behind; retry later", retry)
        body = await request.body()
        if request.headers.get("content-encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(body)
            except (OSError, EOFError):
                stats.bad += 1
                return _answer(content_type, 400, "the body is not gzip")
        if len(body) > settings.max_request_bytes:
            stats.bad += 1
            return _answer(content_type, 413, f"request over {settings.max_request_bytes} bytes")
        try:
            line, spans = encode_request(
                body, content_type, request.url.path.endswith("/logs"), settings.redactor
            )
        except ValueError as exc:
            stats.bad += 1
            return _answer(content_type, 400, str(exc))
        if line:
            try:
                await writer.submit(line)
            except OSError as exc:
                return _answer(
                    content_type, 503, f"cannot write the store: {exc.strerror or exc}", {"Retry-After": "5"}
                )
        stats.requests += 1
        stats.spans += spans
        return _answer(content_type)

    async def stats_endpoint(request: Request) -> Response:
        return Response(json.dumps(stats.__dict__ | {"pending_bytes": writer.pending_bytes}), media_type=JSON)

    app = Starlette(
        routes=[
            Route("/v1/traces", export, methods=["POST"]),
            Route("/v1/logs", export, methods=["POST"]),
            # Langfuse's SDK exports OTLP to this path of its base URL: it can point at trailcheck too.
            Route("/api/public/otel/v1/traces", export, methods=["POST"]),
            Route("/stats", stats_endpoint, methods=["GET"]),
        ],
        lifespan=_lifespan(writer),
    )
    app.state.writer, app.state.stats = writer, stats
    return app
