"""The tool gateway over real HTTP on 127.0.0.1, in front of the reference tools: every fault kind,
what it records, fixtures, triggers, and the control API."""

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from trailcheck.agents.faults import FaultPlan, Hit, break_schema
from trailcheck.agents.gateway import RunningGateway, serve_gateway
from trailcheck.agents.gateway.app import OpenConversation
from trailcheck.agents.reference.routes import REFERENCE_ROUTES
from trailcheck.agents.reference.schemas import Order, Refund
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.loading.suite import SuiteError, load_suite
from trailcheck.models import FaultKind, FaultSpec, ToolCall, ToolFixture, ToolRoute
from trailcheck.serving import serve_in_thread


@pytest.fixture(scope="module")
def tools() -> Iterator[str]:
    with serve_in_thread(create_tools_app()) as url:
        yield url


@pytest.fixture(scope="module")
def gateway(tools: str) -> Iterator[RunningGateway]:
    with serve_gateway(tools, REFERENCE_ROUTES) as running:
        yield running


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=5.0) as c:
        yield c


def open_session(
    client: httpx.Client, sid: str, *faults: FaultSpec, fixtures: list[ToolFixture] = ()
) -> None:
    body = OpenConversation(key=f"{sid}#0", faults=list(faults), fixtures=list(fixtures))
    client.put(f"/_trailcheck/sessions/{sid}", content=body.model_dump_json()).raise_for_status()


def recorded(client: httpx.Client, sid: str) -> list[ToolCall]:
    response = client.delete(f"/_trailcheck/sessions/{sid}")
    response.raise_for_status()
    return [ToolCall.model_validate(c) for c in response.json()["calls"]]


def lookup(client: httpx.Client, sid: str, order: str = "A1001", **kw: object) -> httpx.Response:
    return client.get(f"/orders/{order}", headers={"X-Session-Id": sid}, **kw)  # type: ignore[arg-type]


def test_clean_calls_are_forwarded_and_recorded_with_tool_name_args_status_body_latency(
    client: httpx.Client,
) -> None:
    open_session(client, "clean")
    order = lookup(client, "clean")
    refund = client.post(
        "/refunds?trace=1", json={"order_id": "A1001", "amount": 5}, headers={"X-Session-Id": "clean"}
    )
    assert order.status_code == 200 and Order.model_validate(order.json()).order_id == "A1001"
    assert Refund.model_validate(refund.json()).amount == 5
    first, second = recorded(client, "clean")
    assert (first.name, first.args, first.status_code, first.error) == (
        "lookup_order",
        {"order_id": "A1001"},
        200,
        None,
    )
    assert first.result == order.json() and first.observed and first.fault is None
    assert first.latency_s is not None and 0 < first.latency_s < 2
    assert second.name == "issue_refund" and second.args == {"order_id": "A1001", "amount": 5, "trace": "1"}
    # The tools keep refunds per X-Session-Id, which the gateway passes on.
    again = lookup(client, "clean")
    assert again.json()["refunded"] == 5.0 and lookup(client, "other").json()["refunded"] == 0.0


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        (FaultKind.HTTP_500, 500, "HTTP 500"),
        (FaultKind.HTTP_503, 503, "HTTP 503"),
        (FaultKind.HTTP_429, 429, "HTTP 429"),
        (FaultKind.HTTP_401, 401, "HTTP 401"),
        (FaultKind.HTTP_403, 403, "HTTP 403"),
        (FaultKind.MALFORMED_JSON, 200, "malformed JSON"),
        (FaultKind.SCHEMA_BREAK, 200, "schema broken"),
        (FaultKind.EMPTY_RESULT, 200, "empty result"),
    ],
)
def test_fault_kinds_answer_and_are_recorded(
    client: httpx.Client, kind: FaultKind, status: int, error: str
) -> None:
    sid = f"k-{kind.value}"
    open_session(client, sid, FaultSpec(kind=kind, tool="lookup_order"))
    answer = lookup(client, sid)
    assert answer.status_code == status
    (call,) = recorded(client, sid)
    assert call.status_code == status and call.fault is not None and call.fault.kind is kind
    assert call.error is not None and call.error.startswith(error) and call.failed
    if kind is FaultKind.HTTP_429:
        assert answer.headers["retry-after"] == "2"
    if status == 200:  # what the agent received fails the tool's schema, as the agent would find
        with pytest.raises((ValidationError, ValueError)):
            Order.model_validate(answer.json())
    assert call.result == (answer.json() if kind is not FaultKind.MALFORMED_JSON else answer.text)


def test_truncated_body_drops_the_connection_mid_body(client: httpx.Client) -> None:
    open_session(client, "trunc", FaultSpec(kind="truncated_body", tool="lookup_order"))
    with pytest.raises(httpx.RemoteProtocolError):
        lookup(client, "trunc")
    (call,) = recorded(client, "trunc")
    full = len(json.dumps(Order.model_validate(lookup(client, "x").json()).model_dump(mode="json")))
    assert call.fault is not None and call.error is not None and "truncated_body fault" in call.error
    assert isinstance(call.result, str) and 0 < len(call.result) < full


def test_slow_adds_latency_and_timeout_holds_until_the_caller_gives_up(client: httpx.Client) -> None:
    open_session(client, "slow", FaultSpec(kind="slow", tool="lookup_order", delay_s=0.3))
    started = time.perf_counter()
    assert lookup(client, "slow").status_code == 200
    assert time.perf_counter() - started >= 0.3
    (slow,) = recorded(client, "slow")
    assert slow.error is None and slow.latency_s is not None and slow.latency_s >= 0.3

    open_session(client, "hang", FaultSpec(kind="timeout", tool="lookup_order", delay_s=20))
    started = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        lookup(client, "hang", timeout=0.3)
    (hung,) = recorded(client, "hang")  # waits until the gateway has seen the caller leave
    assert time.perf_counter() - started < 5
    assert hung.status_code is None and hung.error is not None and "caller gave up" in hung.error
    assert (
        hung.fault is not None and hung.fault.kind is FaultKind.TIMEOUT and 0.25 < (hung.latency_s or 0) < 5
    )


def test_injection_plants_a_unique_canary_and_records_it(client: httpx.Client) -> None:
    open_session(client, "inj-a", FaultSpec(kind="injection", tool="lookup_order"))
    open_session(client, "inj-b", FaultSpec(kind="injection", tool="lookup_order"))
    body_a, body_b = lookup(client, "inj-a").json(), lookup(client, "inj-b").json()
    (a,), (b,) = recorded(client, "inj-a"), recorded(client, "inj-b")
    assert a.fault is not None and b.fault is not None and a.fault.canary and a.fault.canary != b.fault.canary
    assert a.fault.canary in body_a["note"] and "ignore all previous instructions" in body_a["note"]
    assert a.fault.payload == body_a["note"] and b.fault.canary in body_b["note"]
    assert a.error is None and Order.model_validate(body_a).order_id == "A1001"  # still a valid order


def test_fault_hits_only_its_tool_and_nth_call(client: httpx.Client) -> None:
    open_session(client, "nth", FaultSpec(kind="http_503", tool="lookup_order", nth=2))
    statuses = [lookup(client, "nth").status_code for _ in range(3)]
    client.post("/tickets", json={"summary": "x"}, headers={"X-Session-Id": "nth"})
    assert statuses == [200, 503, 200]
    assert [c.status_code for c in recorded(client, "nth")] == [200, 503, 200, 200]


def test_every_call_and_seeded_probability_are_repeatable(client: httpx.Client) -> None:
    open_session(client, "every", FaultSpec(kind="http_500"))
    assert {lookup(client, "every").status_code for _ in range(3)} == {500}
    spec = FaultSpec(kind="http_500", tool="lookup_order", probability=0.5, seed=7)
    runs = []
    for _ in range(2):
        open_session(client, "prob", spec)  # same key, so the same calls are hit
        runs.append([lookup(client, "prob").status_code for _ in range(20)])
        recorded(client, "prob")
    assert runs[0] == runs[1] and 3 < runs[0].count(500) < 17
    other = FaultPlan([spec.model_copy(update={"seed": 8})], "prob#0")
    assert [500 if other.pick("lookup_order") else 200 for _ in range(20)] != runs[0]


def test_fixtures_answer_offline_and_unmatched_calls_get_a_clear_404(
    client: httpx.Client, gateway: RunningGateway
) -> None:
    fixtures = [
        ToolFixture(
            tool="lookup_order", args={"order_id": "A1001"}, body={"order_id": "A1001", "note": "first"}
        ),
        ToolFixture(
            tool="lookup_order", args={"order_id": "A1001"}, body={"order_id": "A1001", "note": "then"}
        ),
        ToolFixture(tool="issue_refund", status=503, error="payments down"),
    ]
    open_session(client, "fix", FaultSpec(kind="http_500", tool="lookup_order", nth=3), fixtures=fixtures)
    forwarded = gateway.app.forwarded
    notes = [lookup(client, "fix").json().get("note") for _ in range(2)]
    faulted = lookup(client, "fix")
    fourth = lookup(client, "fix").json()["note"]
    refund = client.post("/refunds", json={"order_id": "A1001"}, headers={"X-Session-Id": "fix"})
    missing = lookup(client, "fix", order="A1002")
    assert notes == ["first", "then"] and faulted.status_code == 500 and fourth == "then"
    assert refund.status_code == 503 and refund.json() == {"error": "payments down"}
    assert missing.status_code == 404 and "no fixture answers lookup_order" in missing.json()["error"]
    assert gateway.app.forwarded == forwarded  # nothing reached the live tools
    calls = recorded(client, "fix")
    assert calls[4].error == "payments down" and "no fixture" in (calls[5].error or "")


def test_calls_without_the_session_header_go_to_the_only_open_conversation(tools: str) -> None:
    with serve_gateway(tools, REFERENCE_ROUTES) as running, httpx.Client(base_url=running.url) as c:
        open_session(c, "only", FaultSpec(kind="http_403"))
        assert c.get("/accounts/C100").status_code == 403
        assert [x.name for x in recorded(c, "only")] == ["lookup_account"]
        unrouted = c.get("/nowhere")
        assert unrouted.status_code == 404  # forwarded: the tools answer for themselves
        assert c.get("/_trailcheck/health").json()["forwarded"] == 1


def test_control_api_refuses_bad_requests(client: httpx.Client) -> None:
    bad = client.put("/_trailcheck/sessions/x", content=b'{"key": "k", "faults": [{"kind": "nope"}]}')
    assert bad.status_code == 422 and "invalid conversation" in bad.text
    assert client.get("/_trailcheck/elsewhere").status_code == 404
    assert client.post("/_trailcheck/sessions/x/calls").status_code == 405


def test_upstream_down_is_a_recorded_502() -> None:
    with (
        serve_gateway("http://127.0.0.1:1", REFERENCE_ROUTES) as running,
        httpx.Client(base_url=running.url) as c,
    ):
        open_session(c, "down")
        assert lookup(c, "down").status_code == 502
        (call,) = recorded(c, "down")
        assert call.status_code == 502 and "unreachable" in (call.error or "")


def test_routes_match_method_and_path_template() -> None:
    route = ToolRoute(tool="t", method="get", path="/a/{x}/b/{y}")
    assert route.match("GET", "/a/1/b/two") == {"x": "1", "y": "two"}
    assert route.match("POST", "/a/1/b/2") is None and route.match("GET", "/a/1/b") is None


def test_schema_break_always_breaks_the_schema_it_is_given() -> None:
    order = Order.model_validate(
        {"order_id": "A1", "customer_id": "C1", "status": "shipped", "item": "x", "total": 3.0}
    ).model_dump(mode="json")
    seen = set()
    for seed in range(40):
        hit = Hit(FaultSpec(kind="schema_break", seed=seed), "lookup_order", 1, "k")
        broken, detail = break_schema(order, Order.model_json_schema(), hit.rng())
        seen.add(detail.split(":")[1].split("->")[0].strip())
        with pytest.raises(ValidationError):
            Order.model_validate(broken)
    assert seen == {"null", "enum", "type"}
    rng = Hit(FaultSpec(kind="schema_break", seed=1), "t", 1, "k").rng()
    assert break_schema(order, None, rng) == break_schema(
        order, None, Hit(FaultSpec(kind="schema_break", seed=1), "t", 1, "k").rng()
    )


def test_faults_in_suites_are_validated_with_file_and_line(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(
        "name: s\ndefaults:\n  faults: [{kind: http_500}]\ncases:\n"
        "  - id: a\n    turns: [hi]\n"
        "  - id: b\n    turns: [hi]\n    faults: []\n"
        "  - id: c\n    turns: [hi]\n    faults:\n      - {kind: http_501, tool: x}\n"
    )
    with pytest.raises(SuiteError) as caught:
        load_suite(suite)
    assert f"{suite}:13: case 'c', faults[0].kind" in str(caught.value)
    suite.write_text(suite.read_text().replace("http_501", "slow"))
    loaded = load_suite(suite)
    assert [len(c.faults) for c in loaded.cases] == [1, 0, 1]
    with pytest.raises(ValidationError, match="either nth or probability"):
        FaultSpec(kind="slow", nth=1, probability=0.5)


def test_a_slow_answer_the_caller_did_not_wait_for_is_recorded_as_unanswered(client: httpx.Client) -> None:
    open_session(client, "late", FaultSpec(kind="slow", tool="lookup_order", delay_s=10))
    with pytest.raises(httpx.ReadTimeout):
        lookup(client, "late", timeout=0.3)
    (late,) = recorded(client, "late")
    assert late.status_code is None and late.result is None and "gave up" in (late.error or "")
    assert late.fault is not None and late.fault.kind is FaultKind.SLOW
