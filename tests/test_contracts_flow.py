"""Contracts end to end under a real Prefect API: replays record real tool responses (one tool broken by
a proxy, as the gateway's fault will), the inline check points at the broken step, and the `contracts`
flow finds the break in the results DB (SQLite and PostgreSQL) and in a traces file."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.contract_fixtures import (
    INVENTORY,
    record_reference_responses,
    reference_inventory,
    tools_with_broken,
)
from tests.prefect_artifacts import run_artifacts
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.agents.reference import serve_reference
from trailcheck.db.contracts import (
    contract_findings,
    get_contract_run,
    recorded_tool_responses,
    save_contract_run,
)
from trailcheck.flows.contracts import contracts
from trailcheck.models import CaseStatus, FailureCategory, RunResult, ToolCall, VerdictStatus
from trailcheck.models.contract import ContractRunResult

SUITE = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"
BROKEN_SEED = 3

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('contracts') / 'results.db'}"


@pytest.fixture(scope="module")
def clean_run(sqlite_url: str) -> RunResult:
    return regression(
        suite=str(SUITE), agent="reference:v1", tools=str(INVENTORY), concurrency=4, shard_size=6,
        database_url=sqlite_url,
    )  # fmt: skip


@pytest.fixture(scope="module")
def broken_run(sqlite_url: str, clean_run: RunResult) -> RunResult:
    with (
        tools_with_broken("lookup_order", {"out_of_set"}, seed=BROKEN_SEED) as proxy,
        serve_reference("v1", tools_base_url=proxy) as agent,
    ):
        return regression(
            suite=str(SUITE), agent=agent.agent_url, agent_version="v1-orders-broken", tools=str(INVENTORY),
            concurrency=4, shard_size=6, database_url=sqlite_url,
        )  # fmt: skip




def test_a_clean_replay_passes_the_inline_contract_checks(clean_run: RunResult, sqlite_url: str) -> None:
    assert {c.case_id: c.reason for c in clean_run.cases if c.status is not CaseStatus.PASSED} == {}
    results = db.load_case_results(db.get_engine(sqlite_url), clean_run.run_id)
    checks = {v.check for r in results for v in r.verdicts}
    assert {"tool_contracts", "tool_arguments"} <= checks
    assert all(v.passed for r in results for v in r.verdicts if v.check.startswith("tool_"))


def test_the_inline_check_names_the_step_whose_response_broke(broken_run: RunResult, sqlite_url: str) -> None:
    results = db.load_case_results(db.get_engine(sqlite_url), broken_run.run_id)
    broke = {}
    for result in results:
        calls = {s.name for s in result.trajectory.steps if isinstance(s, ToolCall)}
        verdict = next(v for v in result.verdicts if v.check == "tool_contracts")
        if "lookup_order" not in calls or not any(
            isinstance(s, ToolCall) and s.name == "lookup_order" and s.answered
            for s in result.trajectory.steps
        ):
            assert verdict.status is VerdictStatus.PASSED, (result.case_id, verdict.reason)
            continue
        assert verdict.status is VerdictStatus.FAILED
        assert verdict.failure_category is FailureCategory.INTEGRATION
        step = result.trajectory.steps[verdict.step_index]  # type: ignore[index]
        assert isinstance(step, ToolCall) and step.name == "lookup_order"
        assert (
            f"step {verdict.step_index} lookup_order response broke its contract: at $.status"
            in verdict.reason
        )
        broke[result.case_id] = verdict.reason
    assert len(broke) >= 3, broke
    summary = {c.case_id: c for c in broken_run.cases}
    assert all(summary[case_id].status is CaseStatus.FAILED for case_id in broke)


def _check(result: ContractRunResult, broken_run_id: str) -> None:
    by_tool = {t.tool: t for t in result.tools}
    assert set(by_tool) == {"lookup_order", "lookup_account", "issue_refund", "create_ticket"}
    assert by_tool["lookup_order"].responses > 0 and not by_tool["lookup_order"].success
    assert all(t.success for name, t in by_tool.items() if name != "lookup_order")
    (finding,) = result.findings
    assert finding.failure_category is FailureCategory.INTEGRATION and finding.tool == "lookup_order"
    assert finding.expectation == "expect_column_values_to_be_in_set" and finding.column == "status"
    assert finding.unexpected_count and finding.unexpected_count >= 3
    assert all(str(e).startswith("unexpected-") for e in finding.examples)
    assert finding.example_sources and all(f"run {broken_run_id} case" in s for s in finding.example_sources)
    assert finding.owner == "orders-team@example.com"


def test_the_contracts_flow_finds_the_break_in_the_results_db(
    clean_run: RunResult, broken_run: RunResult, sqlite_url: str
) -> None:
    result = contracts(inventory=str(INVENTORY), hours=1, database_url=sqlite_url)
    _check(result, broken_run.run_id)
    assert not result.ok and result.failed_calls > 0  # A1005's refund fails at the provider: not judged
    engine = db.get_engine(sqlite_url)
    assert get_contract_run(engine, result.run_id) == result
    stored = contract_findings(engine, result.run_id)
    assert [(f.tool, f.expectation, f.failure_category) for f in stored] == [
        ("lookup_order", "expect_column_values_to_be_in_set", FailureCategory.INTEGRATION)
    ]
    assert stored[0].unexpected_count == result.findings[0].unexpected_count
    save_contract_run(engine, result)  # a retried write replaces the run's rows, it does not add to them
    assert len(contract_findings(engine, result.run_id)) == 1
    artifacts = run_artifacts(result.flow_run_id, "contracts-reference-support-desk")
    assert any(result.run_id in (a.data or "") and "FAIL" in (a.data or "") for a in artifacts)

    only_clean = contracts(inventory=str(INVENTORY), run_ids=[clean_run.run_id], database_url=sqlite_url)
    assert only_clean.ok and only_clean.responses > 0
    future = datetime.now(UTC) + timedelta(hours=1)
    empty = contracts(
        inventory=str(INVENTORY), since=future, until=future + timedelta(hours=1), database_url=sqlite_url
    )
    assert empty.responses == 0 and empty.ok


def test_the_window_is_the_databases_clock(clean_run: RunResult, sqlite_url: str) -> None:
    engine = db.get_engine(sqlite_url)
    now = datetime.now(UTC)
    assert recorded_tool_responses(
        engine, since=now - timedelta(hours=1), run_ids=[clean_run.run_id]
    ).responses
    assert not recorded_tool_responses(
        engine, until=now - timedelta(hours=1), run_ids=[clean_run.run_id]
    ).responses


@pytest.mark.postgres
def test_postgres_stores_and_reads_the_same(
    clean_run: RunResult, broken_run: RunResult, sqlite_url: str, postgres_url: str
) -> None:
    source, target = db.get_engine(sqlite_url), db.get_engine(postgres_url)
    for run in (clean_run, broken_run):
        db.start_run(target, run)
        db.record_case_results(target, run.run_id, db.load_case_results(source, run.run_id))
    lite = recorded_tool_responses(source, run_ids=[clean_run.run_id, broken_run.run_id])
    pg = recorded_tool_responses(target, since=datetime.now(UTC) - timedelta(minutes=30))
    key = lambda r: r.source  # noqa: E731
    assert [(r.source, r.response) for r in sorted(pg.responses, key=key)] == [
        (r.source, r.response) for r in sorted(lite.responses, key=key)
    ]
    assert pg.failed_calls == lite.failed_calls
    result = contracts(inventory=str(INVENTORY), hours=1, database_url=postgres_url)
    _check(result, broken_run.run_id)
    assert get_contract_run(target, result.run_id) == result
    assert [f.column for f in contract_findings(target, result.run_id)] == ["status"]
    save_contract_run(target, result)  # a retried write replaces the run's rows, it does not add to them
    assert [f.column for f in contract_findings(target, result.run_id)] == ["status"]


def _trace(i: int, tool: str, response: object, error: str | None = None) -> dict:
    tool_message = {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(response)}
    if error:
        tool_message["error"] = error
    call = {"id": f"c{i}", "type": "function", "function": {"name": tool, "arguments": "{}"}}
    return {
        "trace_id": f"t-{i}",
        "timestamp": datetime.now(UTC).isoformat(),
        "messages": [
            {"role": "user", "content": "help"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            tool_message,
            {"role": "assistant", "content": "done"},
        ],
    }


def test_live_traces_are_checked_too(tmp_path: Path, sqlite_url: str) -> None:
    from trailcheck.variants.contract_break import break_response

    loaded = reference_inventory()
    recorded = record_reference_responses()
    account = next(r.response for r in recorded if r.tool == "lookup_account")
    broken = break_response(
        "lookup_account", account, loaded.suites["lookup_account"], kinds={"null"}, seed=1
    )
    lines = [_trace(i, r.tool, r.response) for i, r in enumerate(recorded)]
    lines += [
        _trace(100, "lookup_account", broken.response),
        _trace(101, "issue_refund", {"error": "payments provider unavailable"}, error="HTTP 503"),
        _trace(102, "get_weather", {"temp": 3}),
    ]
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = contracts(
        inventory=str(INVENTORY), traces=str(traces), use_database=False, database_url=sqlite_url
    )
    assert result.sources == [str(traces)]
    assert result.failed_calls == 1 and result.untracked_tools == {"get_weather": 1}
    assert result.responses == len(recorded) + 1
    (finding,) = result.findings
    assert finding.tool == "lookup_account" and finding.column == broken.field
    assert finding.expectation == "expect_column_values_to_not_be_null"
    assert finding.example_sources == ["trace t-100 step 1"]
