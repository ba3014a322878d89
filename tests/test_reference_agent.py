"""The reference agent over real HTTP: v1's good behaviour and v2's flaws, tool by tool."""

from collections.abc import Iterator

import httpx
import pytest

from trailcheck.agents.reference import VERSIONS, ReferenceAgent, serve_reference
from trailcheck.agents.reference.agent_app import create_agent_app
from trailcheck.serving import serve_in_thread


@pytest.fixture(scope="module")
def v1() -> Iterator[ReferenceAgent]:
    with serve_reference("v1") as ref:
        yield ref


@pytest.fixture(scope="module")
def v2() -> Iterator[ReferenceAgent]:
    with serve_reference("v2") as ref:
        yield ref


def chat(ref: ReferenceAgent, message: str, session: str = "s", **context: str) -> dict:
    response = httpx.post(ref.agent_url, json={"session_id": session, "message": message, "context": context})
    response.raise_for_status()
    return response.json()


def calls(reply: dict) -> list[tuple[str, int | None]]:
    return [(c["name"], c["status_code"]) for c in reply["tool_calls"]]


def test_v1_looks_up_then_refunds(v1: ReferenceAgent) -> None:
    reply = chat(v1, "Refund order A1001 please", "a")
    assert calls(reply) == [("lookup_order", 200), ("issue_refund", 200)]
    assert reply["tool_calls"][1]["args"]["amount"] == 42.5
    assert "$42.50" in reply["reply"] and not reply["escalated"]
    assert reply["usage"]["input_tokens"] > 0 and reply["cost_usd"] > 0


@pytest.mark.parametrize(
    ("order", "why"), [("A1002", "not been delivered"), ("A1003", "30-day refund window")]
)
def test_v1_refuses_ineligible_refunds_without_calling_the_refund_tool(
    v1: ReferenceAgent, order: str, why: str
) -> None:
    reply = chat(v1, f"Refund order {order}", f"b-{order}")
    assert calls(reply) == [("lookup_order", 200)]
    assert why in reply["reply"]


def test_v1_admits_a_failed_refund_and_escalates(v1: ReferenceAgent) -> None:
    reply = chat(v1, "Please refund order A1005", "c")
    assert calls(reply) == [("lookup_order", 200), ("issue_refund", 503), ("create_ticket", 200)]
    assert "could not complete the refund" in reply["reply"] and reply["escalated"]


def test_v2_skips_the_lookup_and_hides_the_failure(v2: ReferenceAgent) -> None:
    ineligible = chat(v2, "Refund order A1002", "d")
    assert calls(ineligible) == [("issue_refund", 200)]  # refunded an undelivered order
    failed = chat(v2, "Please refund order A1005", "e")
    assert calls(failed) == [("issue_refund", 503)]
    assert "has been processed" in failed["reply"] and not failed["escalated"]


def test_multi_turn_remembers_the_order(v1: ReferenceAgent) -> None:
    first = chat(v1, "Where is my order A1004?", "f")
    assert "A1004" in first["reply"] and calls(first) == [("lookup_order", 200)]
    second = chat(v1, "Please refund it", "f")
    assert [a["args"]["order_id"] for a in second["tool_calls"]] == ["A1004", "A1004"]
    other_session = chat(v1, "Please refund it", "g")
    assert other_session["tool_calls"] == [] and "Which order" in other_session["reply"]


def test_unknown_order_account_and_handover(v1: ReferenceAgent) -> None:
    missing = chat(v1, "Where is A9999?", "h")
    assert calls(missing) == [("lookup_order", 404)] and "could not find order A9999" in missing["reply"]
    account = chat(v1, "What email do you have for me?", "i", customer_id="C200")
    assert account["tool_calls"][0]["args"] == {"customer_id": "C200"}
    assert "alan@example.com" in account["reply"]
    human = chat(v1, "Let me talk to a human", "j", customer_id="C100")
    assert calls(human) == [("create_ticket", 200)] and human["escalated"]


def test_tools_down_is_a_failed_lookup_not_a_crash() -> None:
    with serve_in_thread(create_agent_app("v1", "http://127.0.0.1:1")) as base:
        reply = httpx.post(f"{base}/chat", json={"session_id": "x", "message": "Where is A1001?"}).json()
    assert reply["tool_calls"][0]["status_code"] is None and reply["tool_calls"][0]["error"]
    assert "could not look up order A1001" in reply["reply"]


def test_versions_are_known_and_unknown_ones_refused() -> None:
    assert set(VERSIONS) >= {"v1", "v2"}
    with pytest.raises(ValueError, match="known: v1, v2"), serve_reference("v9"):
        pass
