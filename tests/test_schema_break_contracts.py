"""The gateway's schema_break fault breaks the tool's data contract when an inventory is known: the
inline `tool_contracts` check fails on exactly the faulted step, and the `contracts` flow finds the same
break with Great Expectations. Without an inventory the fault falls back to breaking the route's schema."""

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest

from tests.contract_fixtures import INVENTORY, reference_inventory
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.agents.config import GatewaySettings
from trailcheck.agents.gateway import serve_gateway
from trailcheck.agents.gateway.app import OpenConversation, SessionCalls, inventory_routes
from trailcheck.agents.reference import serve_reference
from trailcheck.agents.reference.routes import REFERENCE_ROUTES
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.flows.contracts import contracts
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models import FailureCategory, FaultKind, FaultSpec, ToolCall, VerdictStatus
from trailcheck.serving import serve_in_thread

SCHEMA_BREAK = FaultSpec(kind="schema_break", tool="lookup_order", seed=7)


@pytest.fixture(scope="module")
def tools() -> Iterator[str]:
    with serve_in_thread(create_tools_app()) as url:
        yield url


def _calls_under(gateway_url: str, *requests: tuple[str, str]) -> list[ToolCall]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
        opened = OpenConversation(key="k#0", faults=[SCHEMA_BREAK])
        client.put("/_trailcheck/sessions/s", content=opened.model_dump_json()).raise_for_status()
        for method, path in requests:
            client.request(method, path, headers={"x-session-id": "s"})
        answer = client.delete("/_trailcheck/sessions/s")
        return SessionCalls.model_validate(answer.json()).calls


def test_with_an_inventory_the_gateway_names_calls_by_its_routes_and_breaks_the_contract(tools: str) -> None:
    loaded = reference_inventory()
    with serve_gateway(tools, inventory=loaded) as running:
        calls = _calls_under(running.url, ("GET", "/orders/A1002"), ("GET", "/accounts/C100"))
    order, account = calls
    assert (order.name, order.args) == ("lookup_order", {"order_id": "A1002"})
    assert (account.name, account.args) == ("lookup_account", {"customer_id": "C100"})
    assert order.fault is not None and order.fault.kind is FaultKind.SCHEMA_BREAK
    assert (order.fault.detail or "").startswith("contract: lookup_order: ")
    assert order.status_code == 200 and order.answered
    schema = loaded.tool("lookup_order").response_schema  # type: ignore[union-attr]
    assert not jsonschema.Draft202012Validator(schema).is_valid(order.result)
    assert account.fault is None and account.error is None
    # The same seed breaks the same field on a replay.
    with serve_gateway(tools, inventory=loaded) as running:
        again, _ = _calls_under(running.url, ("GET", "/orders/A1002"), ("GET", "/accounts/C100"))
    assert again.result == order.result and again.fault == order.fault


def test_without_an_inventory_the_route_schema_is_broken_and_unrouted_calls_keep_their_path(
    tools: str,
) -> None:
    with serve_gateway(tools, REFERENCE_ROUTES) as running:
        (order,) = _calls_under(running.url, ("GET", "/orders/A1002"))
    assert order.name == "lookup_order" and order.fault is not None
    assert not (order.fault.detail or "").startswith("contract:")
    with serve_gateway(tools) as running:
        (unrouted,) = _calls_under(running.url, ("GET", "/orders/A1002"))
    assert unrouted.name == "GET /orders/A1002" and unrouted.fault is None


@pytest.mark.usefixtures("prefect_harness")
def test_a_schema_break_replay_fails_the_inline_check_on_the_faulted_step_and_gx_finds_it(
    tmp_path: Path,
) -> None:
    suite = tmp_path / "broken-orders.yaml"
    suite.write_text(
        "name: broken-orders\ncases:\n"
        "  - id: order-status\n    turns: ['Where is my order A1002?']\n"
        "    faults: [{kind: schema_break, tool: lookup_order, seed: 7}]\n"
        "  - id: account\n    turns: ['What tier is my account C100?']\n"
        "    context: {customer_id: C100}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'results.db'}"
    run = regression(
        suite=str(suite), agent="reference:v1", tools=str(INVENTORY), database_url=url, notify=False
    )
    results = {r.case_id: r for r in db.load_case_results(db.get_engine(url), run.run_id)}

    faulted = results["order-status"]
    steps = faulted.trajectory.steps
    faulted_steps = [i for i, s in enumerate(steps) if isinstance(s, ToolCall) and s.fault is not None]
    assert len(faulted_steps) == 1
    verdict = next(v for v in faulted.verdicts if v.check == "tool_contracts")
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.failure_category is FailureCategory.INTEGRATION
    assert verdict.step_index == faulted_steps[0]
    assert "(and " not in verdict.reason  # exactly one step broke
    clean = next(v for v in results["account"].verdicts if v.check == "tool_contracts")
    assert clean.status is VerdictStatus.PASSED

    found = contracts(inventory=str(INVENTORY), run_ids=[run.run_id], database_url=url)
    assert found.findings and not found.ok
    broken_step = steps[faulted_steps[0]]
    assert isinstance(broken_step, ToolCall) and broken_step.fault is not None
    source = f"run {run.run_id} case order-status trial 0 step {faulted_steps[0]}"
    for finding in found.findings:  # a wrong type can also trip the field's range expectation
        assert finding.tool == "lookup_order" and finding.failure_category is FailureCategory.INTEGRATION
        assert finding.column is not None and finding.column in (broken_step.fault.detail or "")
    assert any(f.example_sources == [source] and f.unexpected_count == 1 for f in found.findings)
    assert all(t.success for t in found.tools if t.tool != "lookup_order")


def test_inventory_routes_keep_the_base_urls_path() -> None:
    loaded = reference_inventory()
    spec = loaded.inventory.tools[0]
    moved = spec.model_copy(
        update={"endpoint": spec.endpoint.model_copy(update={"base_url": "https://orders.internal/api/v2/"})}
    )
    inventory = loaded.inventory.model_copy(update={"tools": [moved]})
    (route,) = inventory_routes(LoadedInventory(loaded.path, inventory, loaded.suites, loaded.suite_paths))
    assert (route.tool, route.method, route.path) == ("lookup_order", "GET", "/api/v2/orders/{order_id}")
    assert route.match("GET", "/api/v2/orders/A1001") == {"order_id": "A1001"}
    assert route.response_schema == spec.response_schema


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_an_http_agent_behind_gateway_url_and_tools_gets_named_calls_and_contract_breaks(
    tools: str, tmp_path: Path
) -> None:
    """`--gateway URL --tools tools.yaml` for an agent given by URL: no routes but the inventory's."""
    port = _free_port()
    suite = tmp_path / "one.yaml"
    suite.write_text(
        "name: one\ncases:\n  - id: order-status\n    turns: ['Where is my order A1002?']\n"
        "    faults: [{kind: schema_break, tool: lookup_order, seed: 7}]\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'results.db'}"
    with serve_reference("v1", tools_base_url=f"http://127.0.0.1:{port}") as agent:
        run = regression(
            suite=str(suite), agent=agent.agent_url, tools=str(INVENTORY), database_url=url, notify=False,
            gateway=GatewaySettings(upstream=tools, port=port),
        )  # fmt: skip
    (result,) = db.load_case_results(db.get_engine(url), run.run_id)
    calls = [s for s in result.trajectory.steps if isinstance(s, ToolCall)]
    assert [c.name for c in calls] and all(c.observed for c in calls)
    assert calls[0].name == "lookup_order" and calls[0].args == {"order_id": "A1002"}
    assert calls[0].fault is not None and (calls[0].fault.detail or "").startswith("contract: lookup_order")
    verdict = next(v for v in result.verdicts if v.check == "tool_contracts")
    assert verdict.status is VerdictStatus.FAILED and verdict.step_index == result.trajectory.steps.index(
        calls[0]
    )


def test_the_tool_loop_gets_the_runs_inventory_unless_its_file_names_one(tmp_path: Path) -> None:
    from trailcheck.agents.targets import resolve_agent

    agent_file = tmp_path / "loop.yaml"
    agent_file.write_text("kind: openai\nbase_url: http://127.0.0.1:9/v1\nmodel: m\n")
    with resolve_agent(str(agent_file), inventory=reference_inventory()) as target:
        assert getattr(target.config, "inventory", None) == str(INVENTORY.resolve())
    agent_file.write_text(agent_file.read_text() + "inventory: own/tools.yaml\n")
    with resolve_agent(str(agent_file), inventory=reference_inventory()) as target:
        assert getattr(target.config, "inventory", None) == "own/tools.yaml"
    with resolve_agent(str(agent_file)) as target:
        assert getattr(target.config, "inventory", None) == "own/tools.yaml"
