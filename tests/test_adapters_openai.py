"""The OpenAI-compatible tool loop against a local fake model and real local tool endpoints."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from agents.config import AgentConfigError, OpenAIAgentConfig, ToolEndpoint
from agents.openai_loop import OpenAIToolLoopAgent
from tests.fakes.openai_server import FakeOpenAI, completion, tool_call
from trailcheck.models import Case, ToolCall, TrajectoryStatus
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.anyio
CASE = Case(id="c1", turns=["Where is order A1001?"])
SECRET = "sk-test-3f9a1c-never-print-me"


@pytest.fixture(scope="module")
def tools_url() -> Iterator[str]:
    app = FastAPI()

    @app.post("/orders/lookup")
    def lookup(body: dict) -> dict:
        return {"order_id": body["order_id"], "status": "shipped"}

    @app.get("/orders/status")
    def status(order_id: str) -> dict:
        return {"order_id": order_id, "status": "delivered"}

    @app.post("/broken")
    def broken() -> JSONResponse:
        return JSONResponse(status_code=500, content={"error": "database is down"})

    @app.post("/tickets")
    def ticket() -> dict:
        return {"ticket_id": "T-1"}

    with serve_in_thread(app) as url:
        yield url


def agent(fake: FakeOpenAI, base: str, tools_url: str, **kw: object) -> tuple[OpenAIToolLoopAgent, object]:
    tools = [
        ToolEndpoint(name="lookup_order", url=f"{tools_url}/orders/lookup"),
        ToolEndpoint(name="order_status", url=f"{tools_url}/orders/status", method="GET"),
        ToolEndpoint(name="broken_tool", url=f"{tools_url}/broken"),
        ToolEndpoint(name="create_ticket", url=f"{tools_url}/tickets"),
    ]
    config = OpenAIAgentConfig(base_url=f"{base}/v1", model="fake-model", tools=tools, **kw)
    return OpenAIToolLoopAgent(config), config


async def run(fake: FakeOpenAI, tools_url: str, **kw: object):
    with serve_in_thread(fake.app()) as base:
        adapter, _ = agent(fake, base, tools_url, **kw)
        try:
            return await adapter.run(CASE, 0)
        finally:
            await adapter.aclose()


async def test_tool_loop_records_observed_calls_and_feeds_results_back(tools_url: str) -> None:
    fake = FakeOpenAI(
        [
            completion(tool_calls=[tool_call("lookup_order", {"order_id": "A1001"})], tokens=(100, 10)),
            completion(tool_calls=[tool_call("order_status", {"order_id": "A1001"})], tokens=(150, 10)),
            completion("Order A1001 is shipped.", tokens=(200, 20)),
        ]
    )
    t = await run(fake, tools_url, price_per_1k_input=1.0, price_per_1k_output=2.0)
    assert t.status is TrajectoryStatus.OK and t.final_answer == "Order A1001 is shipped."
    calls = t.tool_calls
    assert [(c.name, c.args, c.status_code, c.observed) for c in calls] == [
        ("lookup_order", {"order_id": "A1001"}, 200, True),
        ("order_status", {"order_id": "A1001"}, 200, True),
    ]
    assert calls[0].result == {"order_id": "A1001", "status": "shipped"}
    assert calls[1].result["status"] == "delivered"  # GET with query parameters
    assert (t.tokens.input, t.tokens.output) == (450, 40)
    assert t.cost_usd == pytest.approx((450 * 1.0 + 40 * 2.0) / 1000)
    second = fake.requests[1]
    assert second["messages"][-1]["role"] == "tool"
    assert "shipped" in second["messages"][-1]["content"]
    assert second["tools"][0]["function"]["name"] == "lookup_order"


async def test_a_failing_tool_is_recorded_and_fed_back_as_error(tools_url: str) -> None:
    fake = FakeOpenAI(
        [completion(tool_calls=[tool_call("broken_tool", {})]), completion("Sorry, try later.")]
    )
    t = await run(fake, tools_url)
    assert t.status is TrajectoryStatus.OK
    call = t.tool_calls[0]
    assert call.failed and call.status_code == 500 and "database is down" in (call.error or "")
    assert fake.requests[1]["messages"][-1]["content"].startswith("Error: HTTP 500")


async def test_unknown_tool_and_bad_arguments_are_failed_calls(tools_url: str) -> None:
    fake = FakeOpenAI(
        [
            completion(tool_calls=[tool_call("drop_tables", {}), tool_call("lookup_order", "{not json")]),
            completion("done"),
        ]
    )
    t = await run(fake, tools_url)
    unknown, bad = t.tool_calls
    assert "unknown tool" in (unknown.error or "")
    assert "unparseable arguments" in (bad.error or "")
    contents = [m["content"] for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert all(c.startswith("Error:") for c in contents)


async def test_endless_tool_calls_error_the_trial(tools_url: str) -> None:
    fake = FakeOpenAI([completion(tool_calls=[tool_call("lookup_order", {"order_id": "A1"})])])
    t = await run(fake, tools_url, max_tool_rounds=3)
    assert t.status is TrajectoryStatus.ERRORED and "after 3 rounds" in (t.error or "")
    assert len(t.tool_calls) == 3


async def test_model_auth_error_never_leaks_the_key(tools_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_LLM_KEY", SECRET)
    fake = FakeOpenAI([JSONResponse(status_code=401, content={"error": {"message": "Incorrect API key"}})])
    t = await run(fake, tools_url, api_key_env="FAKE_LLM_KEY")
    assert fake.headers[0]["authorization"] == f"Bearer {SECRET}"
    assert t.status is TrajectoryStatus.ERRORED and "401" in (t.error or "")
    assert SECRET not in t.model_dump_json()


async def test_escalation_tool_marks_the_trajectory(tools_url: str) -> None:
    fake = FakeOpenAI(
        [
            completion(tool_calls=[tool_call("create_ticket", {"summary": "x"})]),
            completion("A human will help."),
        ]
    )
    t = await run(fake, tools_url, escalation_tools=["create_ticket"])
    assert t.escalated and isinstance(t.steps[1], ToolCall)


def test_missing_api_key_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    config = OpenAIAgentConfig(base_url="http://127.0.0.1:9/v1", model="m", api_key_env="NOT_SET_ANYWHERE")
    with pytest.raises(AgentConfigError, match="NOT_SET_ANYWHERE"):
        OpenAIToolLoopAgent(config)
