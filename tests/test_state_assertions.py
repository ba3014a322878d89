"""State assertions: probes (HTTP, SQL, Python) read after the conversation, a reset hook before each
trial, the `state` check on what they read, and the reference suites through the real regression flow."""

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests import state_probes
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.agents import environment
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.checks.base import CheckContext
from trailcheck.checks.state_checks import StateMatch, value_at
from trailcheck.loading.suite import SuiteError, load_suite
from trailcheck.models import (
    Case,
    CaseStatus,
    Environment,
    StateAssertion,
    Trajectory,
    VerdictStatus,
)
from trailcheck.serving import serve_in_thread

SUITES = Path(__file__).resolve().parents[1] / "suites"


def _verdict(assertions: list[dict[str, Any]], trajectory: Trajectory) -> tuple[VerdictStatus, str]:
    case = Case(id="c", turns=["hi"])  # type: ignore[list-item]
    check = StateMatch([StateAssertion.model_validate(a) for a in assertions])
    verdict = check.evaluate(CheckContext(case=case, trajectory=trajectory))
    return verdict.status, verdict.reason


def test_value_at_follows_keys_and_list_indices() -> None:
    doc = {"orders": {"A1": {"status": "refunded"}}, "rows": [{"n": 1}, {"n": 2}]}
    assert value_at(doc, "orders.A1.status") == "refunded"
    assert value_at(doc, "rows.1.n") == 2 and value_at(doc, "rows.-1.n") == 2
    assert value_at(doc, "") is doc
    assert value_at(doc, "orders.A2") is not None and value_at(doc, "rows.5") is value_at(doc, "orders.A2")


def test_the_state_check_matches_reports_and_never_passes_an_unread_probe() -> None:
    read = Trajectory(case_id="c", state={"orders": {"A1": {"status": "refunded", "amount": 42.5}}})
    assert (
        _verdict([{"probe": "orders", "path": "A1.status", "equals": "refunded"}], read)[0]
        is VerdictStatus.PASSED
    )
    status, reason = _verdict([{"probe": "orders", "path": "A1.amount", "match": {"max": 40}}], read)
    assert status is VerdictStatus.FAILED and reason == "state orders.A1.amount is 42.5, above the maximum 40"
    status, reason = _verdict([{"probe": "orders", "path": "A2.status", "equals": "refunded"}], read)
    assert (status, reason) == (VerdictStatus.FAILED, "state orders.A2.status is missing")
    absent = {"probe": "orders", "path": "A2", "match": {"one_of": [], "optional": True}}
    assert _verdict([absent], read)[0] is VerdictStatus.PASSED
    assert "must be absent" in _verdict([{**absent, "path": "A1"}], read)[1]
    unread = Trajectory(case_id="c", state_errors={"orders": "GET x answered HTTP 500"})
    assert _verdict([absent], unread) == (VerdictStatus.ERRORED, "probe 'orders': GET x answered HTTP 500")
    assert _verdict([absent], Trajectory(case_id="c"))[0] is VerdictStatus.ERRORED


def _read(env: dict[str, Any], trajectory: Trajectory, tools_url: str | None = None) -> Trajectory:
    environment_ = Environment.model_validate(env)
    return asyncio.run(environment.read_state(trajectory, environment_, set(environment_.probes), tools_url))


def test_http_probe_and_reset_against_the_reference_tools() -> None:
    with serve_in_thread(create_tools_app()) as tools:
        import httpx

        headers = {"X-Session-Id": "case#0-abc"}
        assert httpx.post(
            f"{tools}/refunds", json={"order_id": "A1001", "amount": 10}, headers=headers
        ).is_success
        assert httpx.post(f"{tools}/refunds", json={"order_id": "A1004", "amount": 5}).is_success
        env = {
            "probes": {
                "mine": {"http": "{tools_url}/state?session={session_id}"},
                "all": {"http": "{tools_url}/state"},
            },
            "reset": {"http": "{tools_url}/reset"},
        }
        read = _read(env, Trajectory(case_id="case", session_id="case#0-abc"), tools)
        assert read.state["mine"] == {"refunds": {"A1001": 10.0}, "tickets": {}, "ticket_count": 0}
        assert read.state["all"]["refunds"] == {"A1001": 10.0, "A1004": 5.0}  # type: ignore[index]
        assert asyncio.run(environment.reset(Environment.model_validate(env), tools)) is None
        assert _read(env, Trajectory(case_id="case"), tools).state["all"]["refunds"] == {}  # type: ignore[index]
        missing = _read({"probes": {"x": {"http": "{tools_url}/nope"}}}, Trajectory(case_id="c"), tools)
        assert missing.state_errors == {"x": f"GET {tools}/nope answered HTTP 404"}
    unknown = _read(env, Trajectory(case_id="c"), None)
    assert "{tools_url} is unknown" in unknown.state_skipped["all"] and not unknown.state_errors
    status, reason = _verdict([{"probe": "all", "path": "refunds", "equals": {}}], unknown)
    assert status is VerdictStatus.SKIPPED and "probe 'all' not read: {tools_url} is unknown" in reason


def test_sql_probe_with_bound_trial_values(postgres_url: str) -> None:
    engine = create_engine(db.database_url(postgres_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tickets (session text, status text)"))
        connection.execute(text("INSERT INTO tickets VALUES ('s#1', 'open'), ('other', 'closed')"))
    engine.dispose()
    env = {
        "probes": {
            "tickets": {"sql": "SELECT status FROM tickets WHERE session = :session_id", "url": postgres_url}
        },
        "reset": {"sql": "DELETE FROM tickets", "url": postgres_url},
    }
    read = _read(env, Trajectory(case_id="c", session_id="s#1"))
    assert read.state == {"tickets": [{"status": "open"}]}
    assert asyncio.run(environment.reset(Environment.model_validate(env), None)) is None
    assert _read(env, Trajectory(case_id="c", session_id="s#1")).state == {"tickets": []}


def test_python_probes_sync_and_async_and_a_crashing_one() -> None:
    state_probes.LEDGER["calls"] = 3
    env = {
        "probes": {
            "sync": {"python": "tests.state_probes:read"},
            "async": {"python": "tests.state_probes:read_async"},
            "broken": {"python": "tests.state_probes:broken"},
            "gone": {"python": "tests.state_probes:nothing_here"},
        },
        "reset": {"python": "tests.state_probes:reset"},
    }
    read = _read(env, Trajectory(case_id="c"))
    assert read.state == {"sync": {"calls": 3}, "async": {"async": True, "calls": 3}}
    assert read.state_errors["broken"] == "RuntimeError: the probe's own bug"
    assert "cannot import tests.state_probes:nothing_here" in read.state_errors["gone"]
    asyncio.run(environment.reset(Environment.model_validate(env), None))
    assert state_probes.LEDGER["calls"] == 0


@pytest.mark.parametrize(
    ("yaml_env", "state", "says"),
    [
        ("environment: {probes: {p: {http: x, sql: y, url: z}}}", "", "exactly one of http, sql, python"),
        ("environment: {probes: {p: {sql: 'select 1'}}}", "", "sql and url go together"),
        ("environment: {probes: {p: {python: 'not a target'}}}", "", "should match pattern"),
        ("", "      state: [{probe: p, equals: 1}]", "unknown probe(s) ['p']"),
        (
            "environment: {probes: {p: {http: x}}}",
            "      state: [{probe: p}]",
            "exactly one of equals, match",
        ),
    ],
)
def test_misuse_is_a_load_error_with_file_and_line(
    tmp_path: Path, yaml_env: str, state: str, says: str
) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(
        f"name: s\n{yaml_env}\ncases:\n  - id: c\n    turns: [hi]\n    expectations:\n{state or '      {}'}\n"
    )
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    text_ = str(info.value)
    assert says in text_ and f"{path}:" in text_.splitlines()[1], text_


GLOBAL_STATE_SUITE = """\
name: refunds-global
environment:
  # The whole tools service, not one conversation: each trial needs a clean one, and its own slot.
  reset: {http: "{tools_url}/reset"}
  probes:
    all: {http: "{tools_url}/state"}
cases:
  - id: refund-eligible
    turns: ["I'd like a refund for order A1001, it arrived broken."]
    expectations:
      checks: []
      state: [{probe: all, path: refunds, equals: {A1001: 42.5}}]
  - id: refund-not-delivered
    turns: ["Refund order A1002 please."]
    expectations:
      checks: []
      state: [{probe: all, path: refunds, equals: {}}]
"""


@pytest.mark.usefixtures("prefect_harness")
def test_reference_suites_judge_refunds_and_tickets_by_state(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    suite = tmp_path / "global.yaml"
    suite.write_text(GLOBAL_STATE_SUITE)
    # Four trials at a time against one shared tools service: the reset hook and the slot keep each
    # trial's reading its own (without them the refunds of concurrent trials add up).
    v1 = regression(suite=str(suite), agent="reference:v1", trials=3, concurrency=4, database_url=url)
    assert {c.case_id: c.status for c in v1.cases} == {
        "refund-eligible": CaseStatus.PASSED,
        "refund-not-delivered": CaseStatus.PASSED,
    }
    v2 = regression(suite=str(suite), agent="reference:v2", trials=1, database_url=url)
    failed = {c.case_id: c.reason for c in v2.cases if c.status is not CaseStatus.PASSED}
    assert list(failed) == ["refund-not-delivered"]
    assert "state all.refunds is {'A1002': 15.99}, expected {}" in failed["refund-not-delivered"]
    # The bundled suite reads each conversation's own state (by session id): no reset, no slot.
    bundled = load_suite(SUITES / "support-desk.yaml")
    probed = {c.id for c in bundled.cases if c.expectations.state}
    assert {"refund-eligible", "refund-provider-down", "human-handover", "refund-not-delivered"} <= probed
    v2_bundled = regression(
        suite=str(SUITES / "support-desk.yaml"), agent="reference:v2", trials=1, database_url=url
    )
    reasons = {c.case_id: c.reason for c in v2_bundled.cases}
    assert "state tools.refunds.A1002" in reasons["refund-not-delivered"]
    assert "state tools.refunds.A1003" in reasons["refund-outside-window"]
