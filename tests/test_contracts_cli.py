"""`trailcheck contracts validate|infer|check` and `run --tools`: exit codes, messages, files written."""

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.contract_fixtures import INVENTORY, record_reference_responses, reference_inventory
from trailcheck import db
from trailcheck.cli import app
from trailcheck.cli import contracts as commands
from trailcheck.models import CaseResult, RunResult, ToolCall, Trajectory, UserMessage
from trailcheck.models.contract import ToolResponse
from trailcheck.variants.contract_break import break_response

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(commands.out, "width", 200)
    monkeypatch.setattr(commands.err, "width", 200)
    return tmp_path


def _text(output: str) -> str:
    return " ".join(output.split())


def _store_run(responses: list[ToolResponse]) -> str:
    """A replay run in the results DB whose one trajectory made these tool calls."""
    engine = db.get_engine()
    run = RunResult(run_id="r" + datetime.now(UTC).strftime("%H%M%S%f"), suite="s", suite_version="1",
                    agent_version="a", trials=1, started_at=datetime.now(UTC))  # fmt: skip
    steps = [UserMessage(content="hi"), *(ToolCall(name=r.tool, result=r.response) for r in responses)]
    db.start_run(engine, run)
    db.record_case_results(
        engine,
        run.run_id,
        [CaseResult(case_id="c", trial=0, trajectory=Trajectory(case_id="c", steps=steps))],
    )
    db.finish_run(engine, run)
    return run.run_id


def test_validate(tmp_path: Path, home: Path) -> None:
    ok = runner.invoke(app, ["contracts", "validate", str(INVENTORY)])
    assert ok.exit_code == 0 and "ok:" in ok.output and "4 tools" in ok.output
    copy = tmp_path / "c"
    shutil.copytree(INVENTORY.parent, copy)
    suite = copy / "lookup_account.json"
    suite.write_text(suite.read_text().replace('"value_set"', '"values"'))
    bad = runner.invoke(app, ["contracts", "validate", str(copy / "tools.yaml")])
    assert bad.exit_code == 2
    assert (
        f"invalid contract suite {suite}" in _text(bad.output) and "Great Expectations refuses" in bad.output
    )


def test_infer_from_traces_writes_suites_for_review(tmp_path: Path, home: Path) -> None:
    traces = tmp_path / "traces.jsonl"
    lines = []
    for i, r in enumerate(record_reference_responses()):
        call = {"id": f"c{i}", "type": "function", "function": {"name": r.tool, "arguments": "{}"}}
        lines.append({"trace_id": f"t{i}", "messages": [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(r.response)}]})  # fmt: skip
    traces.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "proposed"
    result = runner.invoke(app, ["contracts", "infer", "--from", str(traces), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "create_ticket.json", "issue_refund.json", "lookup_account.json", "lookup_order.json"
    ]  # fmt: skip
    tickets = json.loads((out / "create_ticket.json").read_text())
    kinds = {(e["type"], e["kwargs"].get("column")) for e in tickets["expectations"]}
    assert ("expect_column_values_to_match_regex", "ticket_id") in kinds
    assert ("expect_column_values_to_be_in_set", "status") in kinds
    again = runner.invoke(app, ["contracts", "infer", "--from", str(traces), "--out", str(out)])
    assert again.exit_code == 2 and "would overwrite" in _text(again.output)
    traces.write_text('{"messages": []}\n')
    broken = runner.invoke(app, ["contracts", "infer", "--from", str(traces), "--out", str(tmp_path / "x")])
    assert broken.exit_code == 2 and f"{traces}:1: messages:" in _text(broken.output)


@pytest.mark.usefixtures("prefect_harness")
def test_infer_from_a_run_and_check_it(tmp_path: Path, home: Path) -> None:
    responses = record_reference_responses()
    good_run = _store_run(responses)
    out = tmp_path / "proposed"
    inferred = runner.invoke(app, ["contracts", "infer", "--from", good_run, "--out", str(out)])
    assert inferred.exit_code == 0, inferred.output
    assert (out / "lookup_order.json").exists()
    ok = runner.invoke(app, ["contracts", "check", str(INVENTORY), "--run-id", good_run])
    assert ok.exit_code == 0, ok.output
    assert f"OK: {len(responses)} responses, 0 broken expectation(s)" in _text(ok.output)

    loaded = reference_inventory()
    account = next(r for r in responses if r.tool == "lookup_account")
    broken = break_response("lookup_account", account.response, loaded.suites["lookup_account"],
                            kinds={"out_of_set"}, seed=4)  # fmt: skip
    bad_run = _store_run([ToolResponse(tool="lookup_account", response=broken.response, source="")])
    report = tmp_path / "contracts.json"
    failed = runner.invoke(
        app, ["contracts", "check", str(INVENTORY), "--run-id", bad_run, "--report-json", str(report)]
    )
    assert failed.exit_code == 1, failed.output
    text = _text(failed.output)
    assert (
        "✗ lookup_account [integration]: expect_column_values_to_be_in_set(tier): 1 of 1 values unexpected"
        in text
    )
    assert f"(from run {bad_run} case c trial 0 step 1)" in text
    assert json.loads(report.read_text())["tools"][1]["failed"] == 1
    assert runner.invoke(app, ["contracts", "infer", "--from", "no-such-run"]).exit_code == 2


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["contracts", "check", "missing.yaml"], "file not found"),
        (["contracts", "check", str(INVENTORY), "--since", "yesterday"], "is not an ISO time"),
        (["contracts", "check", str(INVENTORY), "--traces", "nope.jsonl"], "traces file not found"),
        (["run", SUITE, "--tools", "missing-tools.yaml"], "invalid inventory missing-tools.yaml"),
    ],
)
def test_bad_input_exits_2(args: list[str], fragment: str, home: Path) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in _text(result.output)
