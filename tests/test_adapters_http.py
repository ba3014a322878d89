"""The HTTP adapter against a real local agent app: the default protocol, mappings, and every way to fail."""

import asyncio
import gzip
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from trailcheck.agents.config import AgentConfigError, HttpAgentConfig, load_agent_config
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.http_agent import HttpAgent
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, TrajectoryStatus, UserMessage
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.anyio
TWO_TURNS = Case(id="two", turns=["Where is A1001?", "Refund it"], context={"customer_id": "C100"})
received: list[dict[str, Any]] = []
received_headers: list[dict[str, str]] = []


def agent_app() -> FastAPI:
    """A small agent: trailcheck's protocol on /chat, a foreign JSON API on /custom, and failure modes."""
    app = FastAPI()

    @app.post("/chat")
    async def chat(request: Request) -> dict[str, Any]:
        body = await request.json()
        received.append(body)
        received_headers.append(dict(request.headers))
        n = sum(1 for b in received if b.get("session_id") == body["session_id"])
        return {
            "reply": f"turn {n}: {body['message']}",
            "tool_calls": [
                {
                    "name": "lookup_order",
                    "args": {"order_id": "A1001"},
                    "result": {"ok": True},
                    "status_code": 200,
                }
            ],
            "escalated": n == 2,
            "usage": {"input_tokens": 10, "output_tokens": 4},
            "cost_usd": 0.001,
        }

    @app.post("/custom")
    async def custom(request: Request) -> dict[str, Any]:
        body = await request.json()
        received.append(body)
        return {"output": {"text": f"custom {body['input']['text']}", "handoff": "customer" in str(body)}}

    @app.post("/completions")
    async def completions() -> dict[str, Any]:
        return {"choices": [{"message": {"content": "from a list"}}], "usage": {"prompt_tokens": 7}}

    @app.post("/sleep/{seconds}")
    async def sleep(seconds: float) -> dict[str, str]:
        await asyncio.sleep(seconds)
        return {"reply": "slept"}

    @app.post("/500")
    async def error() -> Response:
        return PlainTextResponse("upstream exploded " + "x" * 1000, status_code=500)

    @app.post("/notjson")
    async def notjson() -> Response:
        return PlainTextResponse("<html>oops</html>")

    @app.post("/huge")
    async def huge() -> Response:
        return StreamingResponse(iter([b"x" * 65536] * 64), media_type="application/json")

    @app.post("/badgzip")
    async def badgzip() -> Response:
        return Response(
            b"not gzip at all", headers={"content-encoding": "gzip"}, media_type="application/json"
        )

    @app.post("/gzip")
    async def good_gzip() -> Response:
        body = gzip.compress(b'{"reply": "compressed"}')
        return Response(body, headers={"content-encoding": "gzip"}, media_type="application/json")

    @app.post("/json/{name}")
    async def canned(name: str) -> Response:
        return JSONResponse(CANNED[name])

    add_http_edge_routes(app)
    return app


def add_http_edge_routes(app: FastAPI) -> None:
    """A redirect (an answer, not to be followed) and a cookie-setting agent (not to leak across trials)."""

    @app.post("/redirect")
    async def redirect() -> Response:
        return Response(status_code=307, headers={"location": "/chat"})

    @app.post("/cookie")
    async def cookie(request: Request) -> Response:
        seen = request.cookies.get("sticky", "none")
        reply = JSONResponse({"reply": f"cookie {seen}"})
        reply.set_cookie("sticky", "from-an-earlier-trial")
        return reply


CANNED: dict[str, Any] = {
    "noreply": {"answer": "wrong key", "status": "ok"},
    "badtokens": {"reply": "hi", "usage": {"input_tokens": "many"}},
    "negcost": {"reply": "hi", "cost_usd": -1},
    "toolsdict": {"reply": "hi", "tool_calls": {"name": "x"}},
    "toolnoname": {"reply": "hi", "tool_calls": [{"args": {}}]},
    "replynumber": {"reply": 42},
    "list": [1, 2, 3],
}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(agent_app()) as base:
        yield base


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/chat"


async def run(config: HttpAgentConfig, case: Case = TWO_TURNS, trial: int = 0) -> Trajectory:
    adapter = build_adapter(config)
    try:
        return await adapter.run(case, trial)
    finally:
        await adapter.aclose()


async def test_default_protocol_multi_turn(url: str) -> None:
    t = await run(
        HttpAgentConfig(url=f"{url}/chat", headers={"Authorization": "Bearer agent-token"}), trial=3
    )
    assert t.status is TrajectoryStatus.OK and t.error is None
    assert [type(s) for s in t.steps] == [UserMessage, ToolCall, AssistantMessage] * 2
    assert t.steps[0] == UserMessage(content="Where is A1001?")
    assert t.steps[2] == AssistantMessage(content="turn 1: Where is A1001?")
    assert t.final_answer == "turn 2: Refund it"  # the same session across turns
    assert (t.case_id, t.trial) == ("two", 3)
    assert t.escalated  # the second turn escalated
    assert (t.tokens.input, t.tokens.output) == (20, 8)
    assert t.cost_usd == pytest.approx(0.002)
    call = t.tool_calls[0]
    assert (call.name, call.args, call.result, call.status_code) == (
        "lookup_order",
        {"order_id": "A1001"},
        {"ok": True},
        200,
    )
    assert not call.observed  # self-reported
    first, second = received[-2:]
    assert (
        re.fullmatch(r"two#3-[0-9a-f]{8}", first["session_id"])
        and first["session_id"] == second["session_id"]
    )
    assert second == {
        "session_id": first["session_id"],
        "message": "Refund it",
        "context": {"customer_id": "C100"},
    }
    assert received_headers[-1]["authorization"] == "Bearer agent-token"
    assert 0 < t.latency_s < 5


async def test_trials_never_share_a_session_even_concurrently(url: str) -> None:
    adapter = HttpAgent(HttpAgentConfig(url=f"{url}/chat"))
    try:
        trials = await asyncio.gather(*(adapter.run(TWO_TURNS, i) for i in range(4)))
    finally:
        await adapter.aclose()
    assert [t.final_answer for t in trials] == ["turn 2: Refund it"] * 4
    sessions = {b["session_id"] for b in received[-8:]}
    assert len(sessions) == 4 and all(s.startswith("two#") for s in sessions)


async def test_request_template_and_response_mapping(url: str) -> None:
    config = HttpAgentConfig.model_validate(
        {
            "url": f"{url}/custom",
            "request_template": {
                "input": {"text": "{{message}}"},
                "meta": "case {{case_id}} for {{context}}",
                "session": "{{ session_id }}",
                "ctx": "{{context}}",
                "h": "{{history}}",
                "fixed": [1, True, None],
            },
            "response": {"reply": "output.text", "escalated": "output.handoff", "tool_calls": None},
        }
    )
    t = await run(config)
    assert t.status is TrajectoryStatus.OK, t.error
    assert t.final_answer == "custom Refund it" and t.escalated
    assert [s.type for s in t.steps] == ["user", "assistant", "user", "assistant"]
    sent = received[-1]
    assert sent["meta"] == 'case two for {"customer_id": "C100"}'  # in a longer string: JSON text
    assert sent["ctx"] == {"customer_id": "C100"}  # a whole placeholder keeps its type
    assert sent["session"].startswith("two#0-") and sent["fixed"] == [1, True, None]
    assert sent["h"] == [
        {"role": "user", "content": "Where is A1001?"},
        {"role": "assistant", "content": "custom Where is A1001?"},
        {"role": "user", "content": "Refund it"},
    ]
    assert t.cost_usd is None and t.tokens.total == 0  # never reported


async def test_list_paths_and_compressed_replies(url: str) -> None:
    mapping = {"reply": "choices.0.message.content", "input_tokens": "usage.prompt_tokens"}
    t = await run(HttpAgentConfig.model_validate({"url": f"{url}/completions", "response": mapping}))
    assert t.final_answer == "from a list" and t.tokens.input == 14
    t = await run(HttpAgentConfig(url=f"{url}/gzip"))
    assert t.final_answer == "compressed"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/500", "answered HTTP 500: upstream exploded"),
        ("/notjson", "invalid JSON"),
        ("/huge", "more than 1,000,000 bytes"),
        ("/badgzip", "sent a reply that could not be decoded (ClientPayloadError"),
        ("/json/noreply", "reply has no 'reply' (top-level keys: ['answer', 'status'])"),
        ("/json/list", "reply has no 'reply' (top-level keys: list)"),
        ("/json/badtokens", "field 'usage.input_tokens' does not fit"),
        ("/json/negcost", "field 'cost_usd' does not fit: Input should be greater than or equal to 0"),
        ("/json/toolsdict", "field 'tool_calls' does not fit"),
        ("/json/toolnoname", "field 'tool_calls.0.name' does not fit: Field required"),
        ("/json/replynumber", "field 'reply' does not fit: Input should be a valid string (got 42)"),
    ],
)
async def test_bad_answers_error_the_trial(url: str, path: str, fragment: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}{path}", max_response_bytes=1_000_000))
    assert t.status is TrajectoryStatus.ERRORED and fragment in (t.error or ""), t.error
    assert t.steps == [UserMessage(content="Where is A1001?")]  # what happened before is kept
    assert t.final_answer is None


async def test_http_error_body_is_only_an_excerpt(url: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}/500"))
    assert len(t.error or "") < 500


async def test_a_hanging_agent_times_out_quickly(url: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}/sleep/0.8", timeout_s=0.3))
    assert t.status is TrajectoryStatus.TIMEOUT and "0.3s" in (t.error or "")
    assert t.latency_s < 0.7 and t.steps == [UserMessage(content="Where is A1001?")]


async def test_the_case_timeout_wins_over_the_config(url: str) -> None:
    config = HttpAgentConfig(url=f"{url}/sleep/0.3", timeout_s=0.1)
    t = await run(config, Case(id="patient", turns=["hi"], timeout_s=2))
    assert t.status is TrajectoryStatus.OK and t.final_answer == "slept"
    t = await run(HttpAgentConfig(url=f"{url}/sleep/0.8"), Case(id="hasty", turns=["hi"], timeout_s=0.2))
    assert t.status is TrajectoryStatus.TIMEOUT and t.latency_s < 0.6


async def test_agent_down() -> None:
    down = closed_port_url()
    t = await run(HttpAgentConfig(url=down))
    assert t.status is TrajectoryStatus.ERRORED
    assert f"cannot reach agent at {down}: ConnectionRefusedError: Connect call failed" in (t.error or "")
    assert "ssl:default" not in (t.error or "")  # aiohttp's wording, misleading for plain http


async def test_redirects_are_answers_not_followed(url: str) -> None:
    t = await run(HttpAgentConfig(url=f"{url}/redirect"))
    assert t.status is TrajectoryStatus.ERRORED and "answered with invalid JSON" in (t.error or "")


async def test_no_trial_sees_cookies_from_another(url: str) -> None:
    adapter = build_adapter(HttpAgentConfig(url=f"{url}/cookie"))
    try:
        answers = [(await adapter.run(Case(id=f"c{i}", turns=["hi"]), 0)).final_answer for i in range(3)]
    finally:
        await adapter.aclose()
    assert answers == ["cookie none"] * 3


async def test_many_trials_in_flight_share_the_adapter(url: str) -> None:
    adapter = build_adapter(HttpAgentConfig(url=f"{url}/sleep/0.05"))
    try:
        cases = [Case(id=f"c{i}", turns=["hi"]) for i in range(64)]
        trajectories = await asyncio.gather(*(adapter.run(case, 0) for case in cases))
    finally:
        await adapter.aclose()
    assert [t.final_answer for t in trajectories] == ["slept"] * 64


async def test_injected_client_is_used_and_left_open(url: str) -> None:
    async with httpx.AsyncClient(headers={"x-from": "injected"}) as client:
        adapter = build_adapter(HttpAgentConfig(url=f"{url}/chat"), client)
        t = await adapter.run(TWO_TURNS, 0)
        await adapter.aclose()
        assert not client.is_closed
    assert t.status is TrajectoryStatus.OK and received_headers[-1]["x-from"] == "injected"


def test_agent_file_errors_name_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("kind: http\nurl: ftp://x\ntimout_s: 3\nresponse:\n  reply: ''\n")
    with pytest.raises(AgentConfigError) as info:
        load_agent_config(path)
    lines = str(info.value).splitlines()
    assert any(line.startswith(f"{path}:2: url: String should match pattern") for line in lines), lines
    assert f"{path}:3: timout_s: Extra inputs are not permitted" in lines
    assert any(line.startswith(f"{path}:5: response.reply:") for line in lines), lines


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "kind: http\nurl: http://x\nrequest_template: {q: '{{mesage}}'}\n",
            ":3: request_template: Value error, unknown placeholder {{mesage}}; known:",
        ),
        (
            "kind: http\nurl: http://x\nrequest_template:\n  q: '{{context.customer_id}}'\n"
            "  n: '{{context.limit:integer}}'\n",
            ":3: request_template: Value error, {{context.limit:integer}}: unknown type 'integer'",
        ),
        ("kind: http\nurl: 'http://x/{{case.name}}'\n", ":2: url: Value error, {{case.name}}: a case has"),
        ("kind: http\nurl: http://x\nheaders: {X-Thread: '{{sesion_id}}'}\n", ":3: headers: Value error"),
        ("kind: command\ncommand: []\n", ":2: command: List should have at least 1 item"),
        ("url: http://x\n", ":1: kind: Unable to extract tag"),
        ("kind: grpc\nurl: http://x\n", ":1: kind: Input tag 'grpc' found using 'kind' does not match"),
        ("- kind: http\n", ": an agent file is a mapping"),
        ("kind: http\nurl: [unclosed\n", ": cannot read agent file"),
    ],
)
def test_agent_file_problems(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    with pytest.raises(AgentConfigError, match=re.escape(f"{path}{fragment}")):
        load_agent_config(path)


def test_agent_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "kind: http\nurl: https://agent.example/chat\nheaders: {X-Team: qa}\n"
        "request_template: {input: {text: '{{message}}'}}\nresponse: {reply: output.text, tool_calls: null}\n"
    )
    config = load_agent_config(path)
    assert isinstance(config, HttpAgentConfig)
    assert config.response.reply == "output.text" and config.response.tool_calls is None
    assert config.response.escalated == "escalated" and config.max_response_bytes == 10 * 1024 * 1024
    with pytest.raises(AgentConfigError, match="not found"):
        load_agent_config(tmp_path / "missing.yaml")
