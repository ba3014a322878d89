"""The HTTP and Python adapters against real local servers and callables: replies, mappings, failures."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from agents.config import AgentConfigError, HttpAgentConfig, PythonAgentConfig, load_agent_config
from agents.factory import build_adapter
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, TrajectoryStatus, UserMessage
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.anyio
TWO_TURNS = Case(id="two", turns=["Where is A1001?", "Refund it"], context={"customer_id": "C100"})
received: list[dict] = []


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    app = FastAPI()

    @app.post("/chat")
    async def chat(body: dict) -> dict:
        received.append(body)
        n = sum(1 for b in received if b.get("session_id") == body["session_id"])
        return {
            "reply": f"turn {n}: {body['message']}",
            "tool_calls": [{"name": "lookup_order", "args": {"order_id": "A1001"}, "result": {"ok": True}}],
            "escalated": n == 2,
            "usage": {"input_tokens": 10, "output_tokens": 4},
            "cost_usd": 0.001,
        }

    @app.post("/custom")
    async def custom(body: dict) -> dict:
        received.append(body)
        return {"output": {"text": f"custom {body['input']['text']}", "handoff": False}}

    @app.post("/slow")
    async def slow() -> dict:
        await asyncio.sleep(2)
        return {"reply": "too late"}

    @app.post("/500")
    async def error() -> Response:
        return PlainTextResponse("upstream exploded", status_code=500)

    @app.post("/notjson")
    async def notjson() -> Response:
        return PlainTextResponse("<html>oops</html>")

    @app.post("/huge")
    async def huge() -> Response:
        return StreamingResponse(iter([b"x" * 65536] * 64), media_type="application/json")

    @app.post("/noreply")
    async def noreply() -> dict:
        return {"answer": "wrong key"}

    @app.post("/badtokens")
    async def badtokens(request: Request) -> dict:
        return {"reply": "hi", "usage": {"input_tokens": "many"}}

    with serve_in_thread(app) as base:
        yield base


async def run(config: HttpAgentConfig | PythonAgentConfig, case: Case = TWO_TURNS) -> Trajectory:
    adapter = build_adapter(config)
    try:
        return await adapter.run(case, 0)
    finally:
        await adapter.aclose()


async def test_default_protocol_multi_turn(url: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}/chat"))
    assert t.status is TrajectoryStatus.OK
    assert [type(s) for s in t.steps] == [UserMessage, ToolCall, AssistantMessage] * 2
    assert t.final_answer == "turn 2: Refund it"  # the same session across turns
    assert t.escalated and (t.tokens.input, t.tokens.output) == (20, 8)
    assert t.cost_usd == pytest.approx(0.002)
    assert not t.tool_calls[0].observed  # self-reported
    assert received[-1]["context"] == {"customer_id": "C100"}


async def test_sessions_differ_between_trials(url: str) -> None:
    adapter = build_adapter(HttpAgentConfig(url=f"{url}/chat"))
    one, two = await adapter.run(TWO_TURNS, 0), await adapter.run(TWO_TURNS, 1)
    await adapter.aclose()
    assert one.final_answer == two.final_answer == "turn 2: Refund it"


async def test_request_template_and_response_mapping(url: str) -> None:
    config = HttpAgentConfig.model_validate(
        {
            "url": f"{url}/custom",
            "request_template": {
                "input": {"text": "{{message}}"},
                "meta": "case {{case_id}}",
                "h": "{{history}}",
            },
            "response": {"reply": "output.text", "escalated": "output.handoff", "tool_calls": None},
        }
    )
    t = await run(config)
    assert t.final_answer == "custom Refund it"
    assert received[-1]["meta"] == "case two"
    assert received[-1]["h"][-1] == {"role": "user", "content": "Refund it"}  # typed, not a string
    assert received[-1]["h"][1]["role"] == "assistant"


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/500", TrajectoryStatus.ERRORED, "HTTP 500: upstream exploded"),
        ("/notjson", TrajectoryStatus.ERRORED, "invalid JSON"),
        ("/huge", TrajectoryStatus.ERRORED, "more than 1,000,000 bytes"),
        ("/noreply", TrajectoryStatus.ERRORED, "reply has no 'reply' (top-level keys: ['answer'])"),
        ("/badtokens", TrajectoryStatus.ERRORED, "unreadable reply"),
        ("/slow", TrajectoryStatus.TIMEOUT, "within 0.5s"),
    ],
)
async def test_agent_failures_are_recorded(
    url: str, path: str, status: TrajectoryStatus, fragment: str
) -> None:
    config = HttpAgentConfig(url=f"{url}{path}", timeout_s=0.5, max_response_bytes=1_000_000)
    t = await run(config)
    assert t.status is status and fragment in (t.error or ""), t.error
    assert t.steps[0] == UserMessage(content="Where is A1001?")  # what happened before is kept


async def test_case_timeout_bounds_the_whole_trial(url: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}/slow"), Case(id="slow", turns=["hi"], timeout_s=0.3))
    assert t.status is TrajectoryStatus.TIMEOUT and t.latency_s < 2


async def test_agent_down() -> None:
    t = await run(HttpAgentConfig(url="http://127.0.0.1:1/chat"))
    assert t.status is TrajectoryStatus.ERRORED
    assert "cannot reach agent at http://127.0.0.1:1/chat" in (t.error or "")


async def test_python_agents() -> None:
    t = await run(PythonAgentConfig(target="tests.agent_fixtures:echo_agent"))
    assert t.final_answer == "echo: Refund it" and len(t.tool_calls) == 2
    t = await run(
        PythonAgentConfig(target="tests.agent_fixtures:sync_dict_agent"), Case(id="h", turns=["a human"])
    )
    assert t.escalated and t.tokens.input == 3
    t = await run(PythonAgentConfig(target="tests.agent_fixtures:crashing_agent"))
    assert t.status is TrajectoryStatus.ERRORED and "raised KeyError" in (t.error or "")
    t = await run(PythonAgentConfig(target="tests.agent_fixtures:garbage_agent"))
    assert t.status is TrajectoryStatus.ERRORED and "unusable reply" in (t.error or "")
    with pytest.raises(AgentConfigError, match="no callable 'nope'"):
        build_adapter(PythonAgentConfig(target="tests.agent_fixtures:nope"))


def test_agent_file_errors_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("kind: http\nurl: ftp://x\ntimout_s: 3\n")
    with pytest.raises(AgentConfigError) as info:
        load_agent_config(path)
    message = str(info.value)
    assert f"{path}: url:" in message and f"{path}: timout_s:" in message
    path.write_text("kind: openai\nbase_url: http://127.0.0.1:9/v1\nmodel: m\n")
    assert load_agent_config(path).kind == "openai"
    with pytest.raises(AgentConfigError, match="not found"):
        load_agent_config(tmp_path / "missing.yaml")
