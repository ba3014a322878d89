"""Request templates: dotted and typed placeholders in the body, URL path and headers."""

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from fastapi import FastAPI, Request

from trailcheck.agents._template import (
    TemplateError,
    check_placeholders,
    render_template,
    template_values,
)
from trailcheck.agents.config import AgentConfigError, load_agent_config
from trailcheck.agents.factory import build_adapter
from trailcheck.models import Case, TrajectoryStatus
from trailcheck.serving import serve_in_thread

CASE = Case(
    id="refund-ok",
    task_type="refund",
    turns=["Refund A1001"],
    tags=["refund"],
    context={"customer": {"id": "C100", "tier": "gold"}, "limit": "2", "orders": ["A1001", "A1002"]},
)


def values() -> dict[str, object]:
    return template_values(CASE, "refund-ok#0-ab12", "Refund A1001", [{"role": "user"}], 1, 0)  # type: ignore[return-value]


def test_dotted_and_typed_placeholders_keep_or_convert_types() -> None:
    template = {
        "customer": "{{context.customer.id}}",
        "first_order": "{{context.orders.0}}",
        "limit": "{{context.limit:int}}",
        "ratio": "{{context.limit:float}}",
        "orders": "{{context.orders}}",
        "case": {"id": "{{case.id}}", "type": "{{case.task_type}}", "tags": "{{case.tags}}"},
        "text": "{{case_id}} for {{context.customer.id}} (turn {{turn}})",
        "raw": "{{context.customer:json}}",
    }
    assert render_template(template, values()) == {  # type: ignore[arg-type]
        "customer": "C100",
        "first_order": "A1001",
        "limit": 2,
        "ratio": 2.0,
        "orders": ["A1001", "A1002"],
        "case": {"id": "refund-ok", "type": "refund", "tags": ["refund"]},
        "text": "refund-ok for C100 (turn 1)",
        "raw": {"id": "C100", "tier": "gold"},
    }


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{context.customer_id}}", "context has no 'customer_id'"),
        ("{{context.customer.id.x}}", "context.customer.id has no 'x'"),
        ("{{context.customer.tier:int}}", "'gold' is not int"),
    ],
)
def test_a_case_without_the_value_is_a_template_error(template: str, problem: str) -> None:
    with pytest.raises(TemplateError, match=problem):
        render_template({"x": template}, values())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{mesage}}", "unknown placeholder {{mesage}}"),
        ("{{message.text}}", "message has no fields"),
        ("{{case.name}}", "a case has"),
        ("{{context.limit:integer}}", "unknown type 'integer'"),
        ("{{ }}", "is not a placeholder"),
    ],
)
def test_unknown_placeholders_are_refused_at_load(template: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_placeholders({"q": template})


def test_agent_file_placeholder_problem_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text("kind: http\nurl: http://x/chat\nheaders:\n  X-Thread: '{{sesion_id}}'\n")
    with pytest.raises(AgentConfigError, match=rf"^{path}:3: headers: Value error, unknown placeholder"):
        load_agent_config(path)


received: list[dict[str, object]] = []
app = FastAPI()


@app.post("/threads/{thread_id}/messages")
async def message(thread_id: str, request: Request) -> dict[str, object]:
    received.append(
        {"thread": thread_id, "header": request.headers.get("x-customer"), **await request.json()}
    )
    return {"output": {"text": "ok"}}


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(app) as base:
        yield base


def test_url_path_and_headers_are_templated_per_turn(url: str, tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"kind: http\nurl: '{url}/threads/{{{{session_id}}}}/messages'\n"
        "headers: {X-Customer: 'customer {{context.customer.id}}'}\n"
        "request_template: {prompt: '{{message}}', limit: '{{context.limit:int}}'}\n"
        "response: {reply: output.text}\n"
    )
    adapter = build_adapter(load_agent_config(path))

    async def run() -> object:
        try:
            return await adapter.run(CASE, 0)
        finally:
            await adapter.aclose()

    received.clear()
    trajectory = anyio.run(run)
    assert trajectory.status is TrajectoryStatus.OK  # type: ignore[attr-defined]
    [sent] = received
    # The session id holds '#': percent-encoded in the path, so it arrives whole.
    assert str(sent["thread"]).startswith("refund-ok#0-")
    assert sent["header"] == "customer C100"
    assert sent["prompt"] == "Refund A1001" and sent["limit"] == 2
    assert json.dumps(sent)  # plain JSON all through


def test_a_missing_context_key_errors_the_case_not_the_run(url: str, tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"kind: http\nurl: '{url}/threads/{{{{session_id}}}}/messages'\n"
        "request_template: {prompt: '{{message}}', account: '{{context.account_id}}'}\n"
        "response: {reply: output.text}\n"
    )
    adapter = build_adapter(load_agent_config(path))

    async def run() -> object:
        try:
            return await adapter.run(CASE, 0)
        finally:
            await adapter.aclose()

    trajectory = anyio.run(run)
    assert trajectory.status is TrajectoryStatus.ERRORED  # type: ignore[attr-defined]
    assert "{{context.account_id}}: context has no 'account_id'" in trajectory.error  # type: ignore[attr-defined]
