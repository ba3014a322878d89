"""Run one producer and write its sample (called by generate.py, in its own process)."""

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "issue_refund",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
            },
        },
    },
]


def _repo() -> None:
    # Appended, not prepended: the repo's agents/ folder must not shadow the Agents SDK.
    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))


def _served() -> Any:
    _repo()
    from tests.fakes.openai_server import FakeOpenAI
    from tests.producers.scenario import model_script
    from trailcheck.serving import serve_in_thread

    return serve_in_thread(FakeOpenAI(model_script()).app())


def _otlp_json_lines(requests: list[Any]) -> str:
    """OTLP/JSON as the OTLP file exporter writes it: one export request per line, ids in hex."""
    from google.protobuf.json_format import MessageToDict

    def hex_ids(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    __import__("base64").b64decode(v).hex()
                    if k in ("traceId", "spanId", "parentSpanId")
                    else hex_ids(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [hex_ids(v) for v in node]
        return node

    return "".join(json.dumps(hex_ids(MessageToDict(r))) + "\n" for r in requests)


def _tool_loop(client: Any, tracer: Any, tool_span: Callable[[Any, str, str, dict[str, Any]], Any]) -> None:
    """A plain openai-SDK agent loop; each tool execution in a span made by `tool_span`."""
    from opentelemetry.trace import Status, StatusCode

    from tests.producers import scenario

    functions = {"lookup_order": scenario.lookup_order, "issue_refund": scenario.issue_refund}
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": scenario.SYSTEM},
        {"role": "user", "content": scenario.USER},
    ]
    while True:
        reply = client.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)
        message = reply.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            return
        for call in message.tool_calls:
            args = json.loads(call.function.arguments)
            with tool_span(tracer, call.function.name, call.id, args) as span:
                try:
                    content = json.dumps(functions[call.function.name](**args))
                    span.set_attribute("output.value" if _OI else "gen_ai.tool.call.result", content)
                except RuntimeError as exc:
                    span.record_exception(exc)
                    span.set_status(Status(StatusCode.ERROR, str(exc)))
                    span.set_attribute("error.type", type(exc).__qualname__)
                    content = f"Error: {exc}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})


_OI = False


def _genai_tool_span(tracer: Any, name: str, call_id: str, args: dict[str, Any]) -> Any:
    attributes = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.call.arguments": json.dumps(args),
    }
    return tracer.start_as_current_span(f"execute_tool {name}", attributes=attributes)


def _oi_tool_span(tracer: Any, name: str, call_id: str, args: dict[str, Any]) -> Any:
    from openinference.semconv.trace import OpenInferenceSpanKindValues, SpanAttributes

    attributes = {
        SpanAttributes.OPENINFERENCE_SPAN_KIND: OpenInferenceSpanKindValues.TOOL.value,
        SpanAttributes.TOOL_NAME: name,
        SpanAttributes.TOOL_PARAMETERS: json.dumps(args),
        SpanAttributes.INPUT_VALUE: json.dumps(args),
    }
    return tracer.start_as_current_span(name, attributes=attributes)


def otel(out: Path, content: str, protobuf: bool = False, openinference: bool = False) -> None:
    """The openai SDK instrumented (OTel GenAI or OpenInference), spans (and logs) to OTLP."""
    global _OI
    _OI = openinference
    if not openinference:
        os.environ["OTEL_SEMCONV_STABILITY_OPT_IN"] = "gen_ai_latest_experimental"
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = content
    import openai
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from tests.producers import scenario

    resource = Resource.create({"service.name": "support-desk"})
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    if openinference:
        from openinference.instrumentation import using_session
        from openinference.instrumentation.openai import OpenAIInstrumentor as OIInstrumentor

        OIInstrumentor().instrument(tracer_provider=tracer_provider)
        session: Any = using_session(scenario.CONVERSATION)
    else:
        from contextlib import nullcontext

        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

        OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, logger_provider=logger_provider)
        session = nullcontext()
    tracer = tracer_provider.get_tracer("support-desk")
    root = {"trailcheck.task_type": scenario.TASK_TYPE}
    if not openinference:
        root |= {"gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": scenario.CONVERSATION}
    with _served() as url, session:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="not-a-key")
        with tracer.start_as_current_span("invoke_agent support-desk", attributes=root):
            _tool_loop(client, tracer, _oi_tool_span if openinference else _genai_tool_span)
    finished = spans.get_finished_spans()
    if protobuf:
        out.write_bytes(encode_spans(finished).SerializeToString())
        return
    requests: list[Any] = [
        encode_spans([span]) for span in finished
    ]  # one line per span, as SimpleSpanProcessor
    if logs.get_finished_logs():
        requests.append(encode_logs(logs.get_finished_logs()))
    out.write_text(_otlp_json_lines(requests), encoding="utf-8")


def pydantic_ai(out: Path) -> None:
    """A pydantic-ai agent on its OpenAI chat model; the history as ModelMessagesTypeAdapter JSON."""
    from pydantic_ai import Agent, ModelRetry
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    with _served() as url:
        from tests.producers import scenario

        model = OpenAIChatModel(
            "fake-model", provider=OpenAIProvider(base_url=f"{url}/v1", api_key="not-a-key")
        )
        agent = Agent(model, system_prompt=scenario.SYSTEM)

        @agent.tool_plain
        def lookup_order(order_id: str) -> dict[str, Any]:
            return scenario.lookup_order(order_id)

        @agent.tool_plain
        def issue_refund(order_id: str, amount: float) -> dict[str, Any]:
            try:
                return scenario.issue_refund(order_id, amount)
            except RuntimeError as exc:
                raise ModelRetry(str(exc)) from exc

        result = agent.run_sync(scenario.USER)
    out.write_bytes(ModelMessagesTypeAdapter.dump_json(result.all_messages(), indent=2) + b"\n")


def agents_sdk(out: Path, items: bool = False) -> None:
    """An Agents SDK agent on a chat-completions model; a TracingProcessor writes the trace."""
    from openai import AsyncOpenAI

    # The Agents SDK's package is called `agents`, like the repo's folder (which trailcheck reaches
    # as trailcheck.agents); this process puts site-packages first, so the name is the SDK's.
    sdk = importlib.import_module("agents")
    TracingProcessor = importlib.import_module("agents.tracing").TracingProcessor
    Agent, Runner, RunConfig = sdk.Agent, sdk.Runner, sdk.RunConfig
    OpenAIChatCompletionsModel, function_tool = sdk.OpenAIChatCompletionsModel, sdk.function_tool
    set_trace_processors = sdk.set_trace_processors

    exported: list[dict[str, Any]] = []

    class FileProcessor(TracingProcessor):
        """Writes each finished trace and span as its export() JSON, one per line."""

        def on_trace_start(self, trace: Any) -> None:
            pass

        def on_trace_end(self, trace: Any) -> None:
            exported.append(trace.export())

        def on_span_start(self, span: Any) -> None:
            pass

        def on_span_end(self, span: Any) -> None:
            exported.append(span.export())

        def shutdown(self) -> None:
            pass

        def force_flush(self) -> None:
            pass

    set_trace_processors([FileProcessor()])
    with _served() as url:
        from tests.producers import scenario

        @function_tool
        def lookup_order(order_id: str) -> dict[str, Any]:
            return scenario.lookup_order(order_id)

        @function_tool
        def issue_refund(order_id: str, amount: float) -> dict[str, Any]:
            return scenario.issue_refund(order_id, amount)

        model = OpenAIChatCompletionsModel(
            "fake-model", AsyncOpenAI(base_url=f"{url}/v1", api_key="not-a-key")
        )
        agent = Agent(
            name="support-desk", instructions=scenario.SYSTEM, model=model, tools=[lookup_order, issue_refund]
        )
        config = RunConfig(
            group_id=scenario.CONVERSATION, trace_metadata={"trailcheck.task_type": scenario.TASK_TYPE}
        )
        result = Runner.run_sync(agent, scenario.USER, run_config=config)
    if items:
        dumped = [
            i if isinstance(i, dict) else i.model_dump(exclude_none=True) for i in result.to_input_list()
        ]
        out.write_text(json.dumps(dumped) + "\n", encoding="utf-8")
    else:
        out.write_text("".join(json.dumps(e) + "\n" for e in exported if e), encoding="utf-8")


def anthropic(out: Path) -> None:
    """A Messages conversation built from the anthropic SDK's own types and serialised by them."""
    from anthropic.types import Message, MessageParam, TextBlock, ToolResultBlockParam, ToolUseBlock, Usage

    _repo()
    from tests.producers import scenario

    def response(content: list[Any], tokens: tuple[int, int], stop: str) -> Message:
        return Message(
            id=f"msg_{tokens[0]}",
            type="message",
            role="assistant",
            model="claude-fake",
            content=content,
            stop_reason=stop,  # type: ignore[arg-type]
            usage=Usage(input_tokens=tokens[0], output_tokens=tokens[1]),
        )

    lookup = response(
        [ToolUseBlock(type="tool_use", id="toolu_lookup", name="lookup_order", input=scenario.LOOKUP_ARGS)],
        scenario.TOKENS[0],
        "tool_use",
    )
    refund = response(
        [ToolUseBlock(type="tool_use", id="toolu_refund", name="issue_refund", input=scenario.REFUND_ARGS)],
        scenario.TOKENS[1],
        "tool_use",
    )
    final = response([TextBlock(type="text", text=scenario.ANSWER)], scenario.TOKENS[2], "end_turn")
    lookup_result: ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": "toolu_lookup",
        "content": json.dumps(scenario.ORDER),
    }
    refund_result: ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": "toolu_refund",
        "content": scenario.REFUND_ERROR,
        "is_error": True,
    }
    messages: list[MessageParam] = [
        {"role": "user", "content": scenario.USER},
        {"role": "assistant", "content": [b.model_dump() for b in lookup.content]},  # type: ignore[misc]
        {"role": "user", "content": [lookup_result]},
        {"role": "assistant", "content": [b.model_dump() for b in refund.content]},  # type: ignore[misc]
        {"role": "user", "content": [refund_result]},
    ]
    body = {
        "trace_id": "anthropic-1",
        "model": "claude-fake",
        "system": scenario.SYSTEM,
        "messages": messages,
        "response": final.model_dump(mode="json"),
        "usage": {
            "input_tokens": scenario.TOKENS[0][0] + scenario.TOKENS[1][0],
            "output_tokens": scenario.TOKENS[0][1] + scenario.TOKENS[1][1],
        },
    }
    out.write_text(json.dumps(body) + "\n", encoding="utf-8")


def langchain(out: Path) -> None:
    """A LangChain tool loop on ChatOpenAI; the run tree a LangChain tracer collected, as JSON."""
    from langchain_core.messages import HumanMessage, SystemMessage
    from langchain_core.runnables import RunnableConfig, RunnableLambda
    from langchain_core.tools import ToolException, tool
    from langchain_core.tracers.run_collector import RunCollectorCallbackHandler
    from langchain_openai import ChatOpenAI

    from tests.producers import scenario

    @tool
    def lookup_order(order_id: str) -> dict[str, Any]:
        """Look up an order."""
        return scenario.lookup_order(order_id)

    @tool
    def issue_refund(order_id: str, amount: float) -> dict[str, Any]:
        """Refund an order."""
        try:
            return scenario.issue_refund(order_id, amount)
        except RuntimeError as exc:
            raise ToolException(str(exc)) from exc

    issue_refund.handle_tool_error = True
    tools = {"lookup_order": lookup_order, "issue_refund": issue_refund}
    collector = RunCollectorCallbackHandler()
    with _served() as url:
        model = ChatOpenAI(model="fake-model", base_url=f"{url}/v1", api_key="not-a-key")  # type: ignore[arg-type]
        llm = model.bind_tools(list(tools.values()))

        def agent(question: str, config: RunnableConfig) -> Any:
            messages: list[Any] = [SystemMessage(scenario.SYSTEM), HumanMessage(question)]
            while True:
                reply = llm.invoke(messages, config=config)
                messages.append(reply)
                if not reply.tool_calls:
                    return reply.content
                for call in reply.tool_calls:
                    messages.append(tools[call["name"]].invoke(call, config=config))

        metadata = {"trailcheck.task_type": scenario.TASK_TYPE, "thread_id": scenario.CONVERSATION}
        runnable = RunnableLambda(agent).with_config(run_name="support-desk", metadata=metadata)
        runnable.invoke(scenario.USER, config={"callbacks": [collector]})

    def tree(run: Any) -> dict[str, Any]:
        # RunTree leaves child_runs out of its JSON; a run tree export nests them.
        return json.loads(run.model_dump_json()) | {"child_runs": [tree(c) for c in run.child_runs]}

    out.write_text("".join(json.dumps(tree(run)) + "\n" for run in collector.traced_runs), encoding="utf-8")


def langfuse(out: Path) -> None:
    """The Langfuse SDK (its OpenAI wrapper and tool observations) exporting to `trailcheck collect`.

    Langfuse's own OTLP exporter sends the spans to a local receiver (its base URL), and the
    receiver's segment is the sample: the spans as Langfuse sends them, through the collect path.
    """
    import shutil
    import tempfile

    from langfuse import Langfuse, propagate_attributes
    from langfuse.openai import OpenAI

    from tests.producers import scenario
    from trailcheck.collect import ReceiverSettings, build_receiver
    from trailcheck.serving import serve_in_thread

    store = Path(tempfile.mkdtemp())
    receiver = build_receiver(ReceiverSettings(store=store))
    functions = {"lookup_order": scenario.lookup_order, "issue_refund": scenario.issue_refund}
    with serve_in_thread(receiver) as collector, _served() as url:
        client = Langfuse(public_key="pk-lf-local", secret_key="sk-lf-local", base_url=collector)
        openai = OpenAI(base_url=f"{url}/v1", api_key="not-a-key")
        context = {"trailcheck.task_type": scenario.TASK_TYPE}
        with (
            propagate_attributes(session_id=scenario.CONVERSATION, metadata=context),
            client.start_as_current_observation(
                as_type="agent", name="support-desk", input=scenario.USER
            ) as root,
        ):
            messages: list[dict[str, Any]] = [
                {"role": "system", "content": scenario.SYSTEM},
                {"role": "user", "content": scenario.USER},
            ]
            while True:
                reply = openai.chat.completions.create(model="fake-model", messages=messages, tools=TOOLS)
                message = reply.choices[0].message
                messages.append(message.model_dump(exclude_none=True))
                if not message.tool_calls:
                    break
                for call in message.tool_calls:
                    args = json.loads(call.function.arguments)
                    with client.start_as_current_observation(
                        as_type="tool", name=call.function.name, input=args
                    ) as tool:
                        try:
                            result = functions[call.function.name](**args)
                            tool.update(output=result)
                            content = json.dumps(result)
                        except RuntimeError as exc:
                            tool.update(level="ERROR", status_message=str(exc))
                            content = f"Error: {exc}"
                    messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
            root.update(output=message.content)
        client.flush()
        client.shutdown()
    receiver.state.writer.stop()
    (segment,) = sorted(store.glob("*.jsonl"))
    shutil.copyfile(segment, out)
    shutil.rmtree(store)


def main() -> None:
    """``produce.py NAME OUT``."""
    name, out = sys.argv[1], Path(sys.argv[2])
    _repo()
    producers: dict[str, Callable[[], None]] = {
        "pydantic-ai": lambda: pydantic_ai(out),
        "otel-attributes": lambda: otel(out, "SPAN_ONLY"),
        "otel-events": lambda: otel(out, "EVENT_ONLY"),
        "otel-protobuf": lambda: otel(out, "SPAN_ONLY", protobuf=True),
        "openinference": lambda: otel(out, "", openinference=True),
        "agents-sdk": lambda: agents_sdk(out),
        "responses": lambda: agents_sdk(out, items=True),
        "anthropic": lambda: anthropic(out),
        "langsmith": lambda: langchain(out),
        "langfuse": lambda: langfuse(out),
    }
    producers[name]()


if __name__ == "__main__":
    main()
