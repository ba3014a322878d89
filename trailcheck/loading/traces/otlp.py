"""OTLP traces (JSON or protobuf) as trailcheck traces: spans grouped by trace id.

Three span conventions are read, span by span: the OpenTelemetry GenAI semantic conventions
(genai.py), OpenInference (openinference.py) and Langfuse's (langfuse.py).

Every span of the file is read first (a trace's spans may be spread over many export batches),
then each trace id becomes one `Trace`. Its conversation is the longest history a model span was
given plus what the model answered (spans in start order; a later call's input repeats the
earlier turns); tool-execution spans add each call's latency and failure. Tokens are summed over
the model spans. Traces without any model or tool span (other services' spans) are left out;
a trace whose model spans carry no message content is a bad record whose fix turns capture on.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trailcheck.loading.traces import genai, langfuse, openinference
from trailcheck.loading.traces.base import (
    CONVERSION_ERRORS,
    BadRecord,
    ReadOptions,
    ReadTrace,
    Record,
    conversion_problem,
)
from trailcheck.loading.traces.framing import NotJson
from trailcheck.loading.traces.otlp_decode import (
    Event,
    OtlpFormatError,
    Span,
    events_from_json,
    spans_from_json,
    spans_from_protobuf,
)
from trailcheck.loading.traces.transcript import Message, ToolSpan, attach_tools, merge_call
from trailcheck.models import Trace
from trailcheck.models.trajectory import TokenUsage

CAPTURE_FIX = (
    "record message content: OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental and "
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY (OpenInference records it by default)"
)
EXPORT_FIX = "give OTLP/JSON exports (one ExportTraceServiceRequest per line) or an OTLP protobuf file"


def _convention(span: Span) -> Any:
    """The module that reads `span`'s attributes: OpenInference, Langfuse, or the GenAI conventions."""
    if openinference.is_openinference(span):
        return openinference
    if langfuse.is_langfuse(span):
        return langfuse
    return genai


class _TraceParts:
    """What the spans of one trace say, gathered span by span."""

    def __init__(self) -> None:
        self.transcript: list[Message] = []
        self.tools: list[ToolSpan] = []
        self.tokens = [0, 0]
        self.models: list[str] = []
        self.session: str | None = None
        self.task_type: str | None = None
        self.cost: float | None = None
        self.llm_spans = 0

    def add(self, span: Span, events: list[Event], options: ReadOptions) -> None:
        conv: Any = _convention(span)
        if conv.is_llm(span):
            self.llm_spans += 1
            used = conv.usage(span)
            self.tokens[0] += used[0]
            self.tokens[1] += used[1]
            if (name := conv.model(span)) and name not in self.models:
                self.models.append(name)
            found = genai.llm_messages(span, events) if conv is genai else conv.llm_messages(span)
            if found is not None:
                self.transcript = merge_call(self.transcript, *found)
            if conv is not genai and (spent := conv.cost(span)) is not None:
                self.cost = (self.cost or 0.0) + spent
        elif conv.is_tool(span):
            self.tools.append(conv.tool_span(span))
        self.session = self.session or conv.session(span)
        name = options.task_type_attribute
        task = (
            span.attrs.get(name)
            or span.attrs.get(f"langfuse.trace.metadata.{name}")  # Langfuse's trace metadata
            or span.resource.get(name)
        )
        self.task_type = self.task_type or (str(task) if task else None)


def trace_from_spans(
    trace_id: str, spans: list[Span], events: dict[str, list[Event]], options: ReadOptions
) -> Trace | str | None:
    """One trace's spans as a Trace; a problem text when it has no content; None when it is no agent's."""
    spans.sort(key=lambda s: s.start_ns)
    parts = _TraceParts()
    for span in spans:
        parts.add(span, [*span.events, *events.get(span.span_id, ())], options)
    if not parts.llm_spans and not parts.tools:
        return None
    transcript = [dict(m) for m in parts.transcript]
    attach_tools(transcript, parts.tools)
    if not transcript:
        return f"trace {trace_id}: its model spans record no messages"
    extra: dict[str, Any] = {"model": parts.models[-1] if parts.models else None, "session_id": parts.session}
    return Trace(
        messages=transcript,
        trace_id=trace_id,
        task_type=parts.task_type,
        timestamp=datetime.fromtimestamp(spans[0].start_ns / 1e9, tz=UTC) if spans[0].start_ns else None,
        tokens=TokenUsage(input=parts.tokens[0], output=parts.tokens[1]),
        cost=parts.cost,
        **extra,
    )


def _spans_of(record: Record) -> tuple[list[Span], list[Event]]:
    if record.binary:
        return list(spans_from_protobuf(record.raw)), []
    value = record.value
    if isinstance(value, NotJson):
        raise OtlpFormatError("", f"not valid JSON: {value.error}")
    if not isinstance(value, dict) or not ({"resourceSpans", "resourceLogs"} & value.keys()):
        raise OtlpFormatError("", "not an OTLP export (no resourceSpans or resourceLogs)")
    return list(spans_from_json(value, record.line)), list(events_from_json(value))


class OtlpReader:
    """OTLP trace exports, JSON Lines or protobuf, with GenAI or OpenInference spans."""

    name = "otlp"
    description = (
        "OpenTelemetry OTLP JSON lines or protobuf (GenAI semantic conventions or OpenInference spans)"
    )
    binary = True

    def sniff(self, value: Any) -> bool:
        """An OTLP/JSON export request."""
        return isinstance(value, dict) and ("resourceSpans" in value or "resourceLogs" in value)

    def read(
        self, path: Path, records: Iterable[Record], options: ReadOptions
    ) -> Iterator[ReadTrace | BadRecord]:
        """Read every record, then one trace per trace id, in the order each trace started."""
        spans: dict[str, list[Span]] = defaultdict(list)
        events: dict[str, list[Event]] = defaultdict(list)
        yield from collect_spans(path, records, spans, events)
        yield from convert_spans(path, spans, events, options)


def collect_spans(
    path: Path, records: Iterable[Record], spans: dict[str, list[Span]], events: dict[str, list[Event]]
) -> Iterator[BadRecord]:
    """Add the spans (by trace id) and log events (by span id) of `records`; yield the bad records."""
    for record in records:
        try:
            found, logged = _spans_of(record)
        except (OtlpFormatError, KeyError, TypeError, ValueError, AttributeError) as exc:
            field = exc.field if isinstance(exc, OtlpFormatError) else ""
            problem = exc.problem if isinstance(exc, OtlpFormatError) else f"{type(exc).__name__}: {exc}"
            yield BadRecord(path, record.line, field, problem, EXPORT_FIX)
            continue
        for span in found:
            spans[span.trace_id].append(span)
        for event in logged:
            if event.span_id:
                events[event.span_id].append(event)


def convert_spans(
    path: Path, spans: dict[str, list[Span]], events: dict[str, list[Event]], options: ReadOptions
) -> Iterator[ReadTrace | BadRecord]:
    """Grouped spans as traces, in the order each trace started."""
    for trace_id in sorted(spans, key=lambda t: min(s.start_ns for s in spans[t])):
        group = spans[trace_id]
        line = min(s.line for s in group)
        try:
            result = trace_from_spans(trace_id, group, events, options)
        except CONVERSION_ERRORS as exc:
            yield BadRecord(path, line, f"trace {trace_id}", conversion_problem(exc), EXPORT_FIX)
            continue
        if result is None:
            continue
        if isinstance(result, str):
            yield BadRecord(path, line, "", result, CAPTURE_FIX)
        else:
            yield ReadTrace(line, result)
