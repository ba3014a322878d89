"""Decode OTLP trace and log exports (JSON or protobuf) into plain spans and events.

OTLP/JSON as the OTLP file exporter and the collector's file exporter write it: one
``ExportTraceServiceRequest`` (``resourceSpans``) or ``ExportLogsServiceRequest``
(``resourceLogs``) per line, ids in hex. Protobuf's own JSON mapping (base64 ids, enum names),
which `google.protobuf.json_format` writes, is read too. Binary files hold one
``ExportTraceServiceRequest``, or several each preceded by its 4-byte big-endian length.
"""

import base64
import binascii
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

STATUS_ERROR = 2
_STATUS_NAMES = {"STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2}


@dataclass(slots=True)
class Event:
    """A span event or a log record (an event in the GenAI conventions' event encoding)."""

    name: str
    time_ns: int
    attrs: dict[str, Any]
    body: Any = None
    span_id: str = ""
    trace_id: str = ""


@dataclass(slots=True)
class Span:
    """One span, its attributes decoded to plain values; `resource` holds its resource's attributes."""

    trace_id: str
    span_id: str
    parent_id: str
    name: str
    start_ns: int
    end_ns: int
    attrs: dict[str, Any]
    resource: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    events: list[Event] = field(default_factory=list)
    line: int = 0

    @property
    def latency_s(self) -> float:
        """The span's duration in seconds."""
        return max(self.end_ns - self.start_ns, 0) / 1e9


class OtlpFormatError(ValueError):
    """A record that is not an OTLP export; `field` locates the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


def _hex_id(value: Any) -> str:
    if not value:
        return ""
    text = str(value)
    if len(text) in (16, 32):
        try:
            int(text, 16)
            return text.lower()
        except ValueError:
            pass
    try:
        return base64.b64decode(text, validate=True).hex()
    except (binascii.Error, ValueError):
        return text


def any_value(value: Any) -> Any:
    """An OTLP/JSON ``AnyValue`` as a plain Python value."""
    if not isinstance(value, dict) or not value:
        return None
    kind, inner = next(iter(value.items()))
    if kind == "stringValue" or kind == "doubleValue" or kind == "boolValue":
        return inner
    if kind == "intValue":
        return int(inner)
    if kind == "arrayValue":
        return [any_value(v) for v in (inner or {}).get("values", [])]
    if kind == "kvlistValue":
        return attributes((inner or {}).get("values", []))
    if kind == "bytesValue":
        return inner
    return None


def attributes(items: Any) -> dict[str, Any]:
    """OTLP/JSON ``KeyValue`` list as a dict."""
    if not isinstance(items, list):
        return {}
    return {kv["key"]: any_value(kv.get("value")) for kv in items if isinstance(kv, dict) and "key" in kv}


def _status(raw: Any) -> tuple[int, str]:
    if not isinstance(raw, dict):
        return 0, ""
    code = raw.get("code", 0)
    code = _STATUS_NAMES.get(code, 0) if isinstance(code, str) else int(code or 0)
    return code, str(raw.get("message") or "")


def spans_from_json(request: Any, line: int) -> Iterator[Span]:
    """The spans of one OTLP/JSON ``ExportTraceServiceRequest``."""
    for r, resource_spans in enumerate(request.get("resourceSpans") or []):
        if not isinstance(resource_spans, dict):
            raise OtlpFormatError(f"resourceSpans[{r}]", "is not an object")
        resource = attributes((resource_spans.get("resource") or {}).get("attributes"))
        for scope in (
            resource_spans.get("scopeSpans") or resource_spans.get("instrumentationLibrarySpans") or []
        ):
            for raw in scope.get("spans") or []:
                code, message = _status(raw.get("status"))
                trace_id = _hex_id(raw.get("traceId"))
                span_id = _hex_id(raw.get("spanId"))
                events = [
                    Event(
                        str(e.get("name", "")),
                        int(e.get("timeUnixNano") or 0),
                        attributes(e.get("attributes")),
                        span_id=span_id,
                        trace_id=trace_id,
                    )
                    for e in raw.get("events") or []
                ]
                yield Span(
                    trace_id=trace_id,
                    span_id=span_id,
                    parent_id=_hex_id(raw.get("parentSpanId")),
                    name=str(raw.get("name", "")),
                    start_ns=int(raw.get("startTimeUnixNano") or 0),
                    end_ns=int(raw.get("endTimeUnixNano") or 0),
                    attrs=attributes(raw.get("attributes")),
                    resource=resource,
                    status_code=code,
                    status_message=message,
                    events=events,
                    line=line,
                )


def events_from_json(request: Any) -> Iterator[Event]:
    """The log records of one OTLP/JSON ``ExportLogsServiceRequest`` that belong to a span."""
    for resource_logs in request.get("resourceLogs") or []:
        for scope in resource_logs.get("scopeLogs") or []:
            for raw in scope.get("logRecords") or []:
                attrs = attributes(raw.get("attributes"))
                name = raw.get("eventName") or attrs.get("event.name") or ""
                yield Event(
                    str(name),
                    int(raw.get("timeUnixNano") or raw.get("observedTimeUnixNano") or 0),
                    attrs,
                    body=any_value(raw.get("body")),
                    span_id=_hex_id(raw.get("spanId")),
                    trace_id=_hex_id(raw.get("traceId")),
                )


def _pb_value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    inner = getattr(value, kind)
    if kind == "array_value":
        return [_pb_value(v) for v in inner.values]
    if kind == "kvlist_value":
        return _pb_attributes(inner.values)
    if kind == "bytes_value":
        return base64.b64encode(inner).decode()
    return inner


def _pb_attributes(items: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in items}


def _messages(data: bytes) -> list[bytes]:
    """The length-prefixed messages of `data`, or `data` itself when it is not framed that way."""
    parts, offset = [], 0
    while offset + 4 <= len(data):
        (size,) = struct.unpack_from(">I", data, offset)
        if size == 0 or offset + 4 + size > len(data):
            return [data]
        parts.append(data[offset + 4 : offset + 4 + size])
        offset += 4 + size
    return parts if parts and offset == len(data) else [data]


def spans_from_protobuf(data: bytes) -> Iterator[Span]:
    """The spans of binary ``ExportTraceServiceRequest`` message(s); OtlpFormatError if it is not one."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    for number, part in enumerate(_messages(data), start=1):
        try:
            request = ExportTraceServiceRequest.FromString(part)
        except DecodeError as exc:
            raise OtlpFormatError(f"message {number}", f"not an OTLP protobuf trace export ({exc})") from None
        for resource_spans in request.resource_spans:
            resource = _pb_attributes(resource_spans.resource.attributes)
            for scope in resource_spans.scope_spans:
                for raw in scope.spans:
                    span_id = raw.span_id.hex()
                    trace_id = raw.trace_id.hex()
                    yield Span(
                        trace_id=trace_id,
                        span_id=span_id,
                        parent_id=raw.parent_span_id.hex(),
                        name=raw.name,
                        start_ns=raw.start_time_unix_nano,
                        end_ns=raw.end_time_unix_nano,
                        attrs=_pb_attributes(raw.attributes),
                        resource=resource,
                        status_code=raw.status.code,
                        status_message=raw.status.message,
                        events=[
                            Event(
                                e.name,
                                e.time_unix_nano,
                                _pb_attributes(e.attributes),
                                span_id=span_id,
                                trace_id=trace_id,
                            )
                            for e in raw.events
                        ],
                        line=number,
                    )


def events_from_protobuf(data: bytes) -> Iterator[Event]:
    """The log records of a binary ``ExportLogsServiceRequest`` (the receiver's /v1/logs)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest.FromString(data)
    for resource_logs in request.resource_logs:
        for scope in resource_logs.scope_logs:
            for raw in scope.log_records:
                attrs = _pb_attributes(raw.attributes)
                yield Event(
                    raw.event_name or str(attrs.get("event.name") or ""),
                    raw.time_unix_nano or raw.observed_time_unix_nano,
                    attrs,
                    body=_pb_value(raw.body),
                    span_id=raw.span_id.hex(),
                    trace_id=raw.trace_id.hex(),
                )
