"""Promotion of a failed live trace into a regression case that loads and replays."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.live_data import jsonl, trace_dict
from trailcheck import db
from trailcheck.agents.reference.tracegen import recorded_conversations
from trailcheck.analysis.promote import PromoteError, append_case, case_from_trace, fixtures_from_messages
from trailcheck.cli import app
from trailcheck.cli import live as live_commands
from trailcheck.flows.regression import regression
from trailcheck.loading.suite import load_suite
from trailcheck.models import CaseStatus, FailureCategory, Trace

SUITE = Path(__file__).resolve().parent.parent / "suites" / "support-desk.yaml"
runner = CliRunner()


def _silent_refund() -> Trace:
    """The real v2 conversation: the refund fails at the payments provider, the agent says it is done."""
    conversation = recorded_conversations()["v2-payments-down"][0]
    return Trace(
        trace_id="prod-77",
        task_type="refund",
        messages=conversation.messages,
        cost=conversation.cost,
        context=conversation.context,  # type: ignore[call-arg]  # extra keys are kept
    )


def test_fixtures_are_the_recorded_tool_answers_in_call_order() -> None:
    fixtures = fixtures_from_messages(_silent_refund().messages)
    assert [(f.tool, f.status, f.error) for f in fixtures] == [
        ("issue_refund", 503, "payments provider unavailable")
    ]
    assert fixtures[0].args["order_id"] == "A1005"
    assert fixtures[0].body == {"error": "payments provider unavailable"}
    ok = fixtures_from_messages(Trace.model_validate(trace_dict(1)).messages)
    assert [(f.tool, f.status, f.body, f.error) for f in ok] == [("issue_refund", 200, {"ok": True}, None)]


def test_append_keeps_the_rest_of_the_file_and_the_suite_loads(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    original = SUITE.read_text()
    suite.write_text(original)
    case = case_from_trace(_silent_refund(), expected="Admit the failure and escalate.",
                           failure_category=FailureCategory.SILENT_ERROR)  # fmt: skip
    append_case(suite, case)
    text = suite.read_text()
    assert text.startswith(original)  # comments and formatting of the existing cases untouched
    loaded = load_suite(suite).cases[-1]
    assert loaded.id == "live-prod-77" and loaded.turns[0].content == "Refund order A1005 please."
    assert loaded.context == {"customer_id": "C200"}
    assert loaded.failure_category is FailureCategory.SILENT_ERROR
    assert loaded.origin is not None and loaded.origin.trace_id == "prod-77"
    assert "has been processed" in loaded.origin.observed and "issue_refund failed" in loaded.origin.observed
    assert loaded.origin.expected == "Admit the failure and escalate."
    with pytest.raises(PromoteError, match="already in the suite"):
        append_case(suite, case)


def test_append_goes_after_the_last_case_when_other_keys_follow(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\ncases:\n- id: a\n  turns: [hi]\n# the end\ndescription: after the cases")
    append_case(suite, case_from_trace(_silent_refund()))
    assert [c.id for c in load_suite(suite).cases] == ["a", "live-prod-77"]
    assert suite.read_text().endswith("# the end\ndescription: after the cases\n")
    flow_style = tmp_path / "flow.yaml"
    flow_style.write_text("name: s\ncases: [{id: a, turns: [hi]}]\n")
    with pytest.raises(PromoteError, match=r"flow.yaml:2: 'cases' is not a block list"):
        append_case(flow_style, case_from_trace(_silent_refund()))
    assert flow_style.read_text() == "name: s\ncases: [{id: a, turns: [hi]}]\n"  # nothing written


def test_cli_promote_from_a_trace_file_and_its_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.setattr(live_commands.err, "width", 300)
    traces = tmp_path / "traces.jsonl"
    traces.write_text(jsonl([trace_dict(1), _silent_refund().model_dump(mode="json", exclude_none=True)]))
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.read_text())
    args = ["promote", "prod-77", "--suite", str(suite), "--traces", str(traces)]
    ok = runner.invoke(app, [*args, "--expected", "Escalate.", "--category", "silent_error"])
    assert ok.exit_code == 0, ok.output
    assert "appended case live-prod-77 (1 turn(s), 1 fixture(s))" in ok.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already in the suite" in again.output
    missing = runner.invoke(app, ["promote", "nope", "--suite", str(suite), "--traces", str(traces)])
    assert missing.exit_code == 2 and "trace 'nope' not found in" in missing.output
    bad = runner.invoke(app, [*args, "--category", "oops"])
    assert bad.exit_code == 2 and "unknown category 'oops'" in bad.output


@pytest.mark.usefixtures("prefect_harness")
def test_a_promoted_case_replays(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: promoted\nversion: '1'\ncases:\n- id: status\n  turns: [Where is order A1001?]\n")
    append_case(suite, case_from_trace(_silent_refund(), failure_category=FailureCategory.SILENT_ERROR))
    url = f"sqlite:///{tmp_path / 'results.db'}"
    run = regression(suite=str(suite), agent="reference:v1", database_url=url)
    results = {r.case_id: r for r in db.load_case_results(db.get_engine(url), run.run_id)}
    replayed = results["live-prod-77"]
    assert replayed.status is not CaseStatus.ERRORED
    steps = replayed.trajectory.step_signatures()
    assert steps[0] == "user: Refund order A1005 please."
    # The case replays offline through the gateway: v1 looks the order up first, which the v2 trace
    # never did, so no fixture answers it and the live tools are never reached.
    [lookup] = [c for c in replayed.trajectory.tool_calls if c.name == "lookup_order"]
    assert lookup.observed and lookup.status_code == 404
    assert "no fixture answers lookup_order" in (lookup.error or "")
    assert not any(c.name == "issue_refund" for c in replayed.trajectory.tool_calls)
    assert "could not" in (replayed.trajectory.final_answer or "")
