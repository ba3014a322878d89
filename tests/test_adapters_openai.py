"""The OpenAI-compatible tool loop against a local fake model and real local tool endpoints."""

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import ValidationError

from tests.fakes.openai_server import FakeOpenAI, Messages, api_error, completion, tool_call
from trailcheck.agents.config import AgentConfigError, OpenAIAgentConfig, ToolEndpoint
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.openai_loop import OpenAIToolLoopAgent
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, TrajectoryStatus, UserMessage
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.anyio
CASE = Case(id="c1", turns=["Where is order A1001?"])
SECRET = "sk-test-3f9a1c-never-print-me"
lookups: list[Any] = []


@pytest.fixture(scope="module")
def tools_url() -> Iterator[str]:
    """Real tool endpoints on 127.0.0.1."""
    app = FastAPI()

    @app.post("/orders/lookup")
    async def lookup(request: Request) -> dict[str, str]:
        body = await request.json()
        lookups.append(body)
        return {"order_id": body["order_id"], "status": "shipped"}

    @app.get("/orders/status")
    def status(order_id: str, verbose: str = "") -> dict[str, str]:
        return {"order_id": order_id, "status": "delivered", "verbose": verbose}

    @app.post("/broken")
    def broken() -> JSONResponse:
        return JSONResponse(status_code=500, content={"error": "database is down"})

    @app.post("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.6)
        return {"late": "yes"}

    @app.post("/text")
    def text() -> PlainTextResponse:
        return PlainTextResponse("plain words")

    @app.post("/tickets")
    def ticket() -> dict[str, str]:
        return {"ticket_id": "T-1"}

    with serve_in_thread(app) as url:
        yield url


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeOpenAI, str]]:
    """One fake provider for the module; each test loads its own script."""
    fake = FakeOpenAI()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture
def model(served: tuple[FakeOpenAI, str]) -> FakeOpenAI:
    return served[0].load([])


@pytest.fixture
def model_url(served: tuple[FakeOpenAI, str]) -> str:
    return served[1]


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def config(base: str, tools_url: str, **kw: Any) -> OpenAIAgentConfig:
    tools = [
        ToolEndpoint(
            name="lookup_order",
            description="Find an order",
            parameters={"type": "object", "properties": {"order_id": {"type": "string"}}},
            url=f"{tools_url}/orders/lookup",
        ),
        ToolEndpoint(name="order_status", url=f"{tools_url}/orders/status", method="GET"),
        ToolEndpoint(name="broken_tool", url=f"{tools_url}/broken"),
        ToolEndpoint(name="slow_tool", url=f"{tools_url}/slow", timeout_s=0.1),
        ToolEndpoint(name="down_tool", url=f"{closed_port_url()}/x"),
        ToolEndpoint(name="text_tool", url=f"{tools_url}/text"),
        ToolEndpoint(name="create_ticket", url=f"{tools_url}/tickets"),
    ]
    return OpenAIAgentConfig(base_url=f"{base}/v1", model="fake-model", tools=tools, **kw)


async def run(base: str, tools_url: str, case: Case = CASE, **kw: Any) -> Trajectory:
    adapter = OpenAIToolLoopAgent(config(base, tools_url, **kw))
    try:
        return await adapter.run(case, 0)
    finally:
        await adapter.aclose()


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


async def test_tool_loop_records_observed_calls_and_feeds_results_back(
    tools_url: str, model: FakeOpenAI, model_url: str
) -> None:
    lookup = tool_call("lookup_order", {"order_id": "A1001"}, call_id="call_1")
    status = tool_call("order_status", {"order_id": "A1001", "verbose": True}, call_id="call_2")
    model.load(
        [
            completion(tool_calls=[lookup], tokens=(100, 10)),
            completion(tool_calls=[status], tokens=(150, 10)),
            completion("Order A1001 is shipped.", tokens=(200, 20)),
        ]
    )
    t = await run(model_url, tools_url, system_prompt="You are a support agent.", temperature=0.2)
    assert t.status is TrajectoryStatus.OK and t.final_answer == "Order A1001 is shipped."
    assert [type(s) for s in t.steps] == [UserMessage, ToolCall, ToolCall, AssistantMessage]
    first, second = t.tool_calls
    assert (first.name, first.args, first.status_code, first.observed) == (
        "lookup_order",
        {"order_id": "A1001"},
        200,
        True,
    )
    assert first.result == {"order_id": "A1001", "status": "shipped"} and first.latency_s is not None
    assert lookups[-1] == {"order_id": "A1001"}  # POST sent the arguments as JSON
    assert second.result == {"order_id": "A1001", "status": "delivered", "verbose": "true"}  # GET query
    assert (t.tokens.input, t.tokens.output) == (450, 40)
    assert t.cost_usd is None  # no prices configured: unknown, not free
    sent = model.requests[0]
    assert sent["model"] == "fake-model" and sent["temperature"] == 0.2
    assert sent["messages"] == [
        {"role": "system", "content": "You are a support agent."},
        {"role": "user", "content": "Where is order A1001?"},
    ]
    assert sent["tools"][0] == {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
    assert "authorization" not in model.headers[0]
    fed_back = tool_messages(model.requests[2])
    assert [m["tool_call_id"] for m in fed_back] == ["call_1", "call_2"]
    assert '"shipped"' in fed_back[0]["content"] and '"delivered"' in fed_back[1]["content"]


async def test_turns_continue_one_conversation_and_cost_comes_from_prices(
    tools_url: str, model: FakeOpenAI, model_url: str
) -> None:
    def answer(messages: Messages) -> dict[str, Any]:
        users = [m["content"] for m in messages if m["role"] == "user"]
        return completion(f"answer {len(users)} to {users[-1]}", tokens=(1000, 100))

    case = Case(id="two", turns=["first question", "second question"])
    model.load(answer)
    t = await run(model_url, tools_url, case, price_per_1k_input=0.5, price_per_1k_output=2.0)
    assert t.final_answer == "answer 2 to second question"
    assert [s.type for s in t.steps] == ["user", "assistant", "user", "assistant"]
    assert t.cost_usd == pytest.approx(2 * (1000 * 0.5 + 100 * 2.0) / 1000)


@pytest.mark.parametrize(
    ("tool", "status_code", "fragment"),
    [
        ("broken_tool", 500, "HTTP 500: " + '{"error":"database is down"}'),
        ("slow_tool", None, "timed out after 0.1s"),
        ("down_tool", None, "ConnectError"),
    ],
)
async def test_a_failing_tool_is_recorded_and_fed_back_as_error(
    tools_url: str, model: FakeOpenAI, model_url: str, tool: str, status_code: int | None, fragment: str
) -> None:
    model.load([completion(tool_calls=[tool_call(tool, {})]), completion("Sorry, try later.")])
    t = await run(model_url, tools_url)
    assert t.status is TrajectoryStatus.OK and t.final_answer == "Sorry, try later."  # the tool's failure
    call = t.tool_calls[0]
    assert call.failed and call.status_code == status_code and fragment in (call.error or ""), call
    assert tool_messages(model.requests[1])[0]["content"] == f"Error: {call.error}"


async def test_unknown_tool_and_bad_arguments_are_failed_calls(
    tools_url: str, model: FakeOpenAI, model_url: str
) -> None:
    calls = [
        tool_call("drop_tables", {}),
        tool_call("lookup_order", "{not json"),
        tool_call("lookup_order", "[1, 2]"),
        tool_call("text_tool", ""),
    ]
    model.load([completion(tool_calls=calls), completion("done")])
    t = await run(model_url, tools_url)
    unknown, bad, not_object, text = t.tool_calls
    assert "unknown tool 'drop_tables'" in (unknown.error or "") and unknown.observed
    assert "unparseable arguments '{not json'" in (bad.error or "") and bad.status_code is None
    assert "not an object" in (not_object.error or "")
    assert text.result == "plain words" and not text.failed  # a text body is kept as text
    contents = [m["content"] for m in tool_messages(model.requests[1])]
    assert [c.startswith("Error:") for c in contents] == [True, True, True, False]
    assert contents[3] == "plain words"


async def test_endless_tool_calls_error_the_trial(tools_url: str, model: FakeOpenAI, model_url: str) -> None:
    model.load([completion(tool_calls=[tool_call("lookup_order", {"order_id": "A1"})])])
    t = await run(model_url, tools_url, max_tool_rounds=3)
    assert t.status is TrajectoryStatus.ERRORED and "after 3 rounds" in (t.error or "")
    assert len(t.tool_calls) == 3 and len(model.requests) == 3
    assert t.final_answer is None


async def test_model_auth_error_never_leaks_the_key(
    tools_url: str, model: FakeOpenAI, model_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_LLM_KEY", SECRET)
    # Worst case: the provider echoes the whole key in its error body.
    model.load([api_error(401, f"Incorrect API key provided: {SECRET}", code="invalid_api_key")])
    t = await run(model_url, tools_url, api_key_env="FAKE_LLM_KEY")
    assert model.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert t.status is TrajectoryStatus.ERRORED and "HTTP 401" in (t.error or "")
    assert "Incorrect API key provided: ***" in (t.error or "")
    assert SECRET not in t.model_dump_json()


@pytest.mark.parametrize(
    ("reply", "fragment"),
    [
        ({"id": "x", "object": "chat.completion", "choices": []}, "without choices"),
        ({"choices": [{"message": "hello"}]}, "unreadable completion: choices.0.message"),
        (PlainTextResponse("<html>gateway</html>"), "invalid JSON"),
        (api_error(503, "overloaded", kind="server_error"), "HTTP 503"),
    ],
)
async def test_model_endpoint_failures_error_the_trial(
    tools_url: str, model: FakeOpenAI, model_url: str, reply: Any, fragment: str
) -> None:
    model.load([reply])
    t = await run(model_url, tools_url)
    assert t.status is TrajectoryStatus.ERRORED and fragment in (t.error or ""), t.error
    assert t.steps == [UserMessage(content="Where is order A1001?")]


async def test_model_down_and_model_too_slow(tools_url: str, model: FakeOpenAI, model_url: str) -> None:
    adapter = OpenAIToolLoopAgent(config(closed_port_url(), tools_url))
    t = await adapter.run(CASE, 0)
    await adapter.aclose()
    assert t.status is TrajectoryStatus.ERRORED and "cannot reach model" in (t.error or "")

    model.load([completion("late")], delay_s=0.5)
    t = await run(model_url, tools_url, Case(id="slow", turns=["hi"], timeout_s=0.2))
    assert t.status is TrajectoryStatus.TIMEOUT and t.latency_s < 0.45


async def test_escalation_tool_marks_the_trajectory(
    tools_url: str, model: FakeOpenAI, model_url: str
) -> None:
    model.load(
        [
            completion(tool_calls=[tool_call("create_ticket", {"summary": "x"})]),
            completion("A human will help."),
        ]
    )
    t = await run(model_url, tools_url, escalation_tools=["create_ticket"])
    assert t.escalated and t.tool_calls[0].result == {"ticket_id": "T-1"}


async def test_injected_client_is_used_and_left_open(
    tools_url: str, model: FakeOpenAI, model_url: str
) -> None:
    model.load([completion("hi")])
    async with httpx.AsyncClient(headers={"x-team": "qa"}) as client:
        adapter = build_adapter(config(model_url, tools_url), client)
        t = await adapter.run(CASE, 0)
        await adapter.aclose()
        assert not client.is_closed
    assert t.final_answer == "hi" and model.headers[0]["x-team"] == "qa"


def test_missing_api_key_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    conf = OpenAIAgentConfig(base_url="http://127.0.0.1:9/v1", model="m", api_key_env="NOT_SET_ANYWHERE")
    with pytest.raises(AgentConfigError, match="NOT_SET_ANYWHERE"):
        OpenAIToolLoopAgent(conf)


def test_config_rejects_unknown_escalation_tools_and_duplicate_names() -> None:
    tool = {"name": "lookup", "url": "http://127.0.0.1:9/t"}
    base = {"base_url": "http://127.0.0.1:9/v1", "model": "m"}
    with pytest.raises(ValidationError, match=r"escalation_tools\n.*'handoff'"):
        OpenAIAgentConfig.model_validate({**base, "tools": [tool], "escalation_tools": ["handoff"]})
    with pytest.raises(ValidationError, match="repeated: \\['lookup'\\]"):
        OpenAIAgentConfig.model_validate({**base, "tools": [tool, tool]})
