"""One definition of a failed tool call (trailcheck/models/tool_failure.py): alike in score and matrix."""

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.contract_fixtures import INVENTORY
from trailcheck.agents.faults import Hit, ToolAnswer, apply_fault
from trailcheck.checks.contracts import mark_contract_breaks
from trailcheck.cli import app
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import FaultKind, FaultSpec, Trace
from trailcheck.models.tool_failure import EMPTY_RESULT, error_in_result

runner = CliRunner()


def _trace(result: str, answer: str = "Order A1001 is on its way.") -> dict[str, object]:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order_id": "A1001"}'},
    }
    return {
        "trace_id": "t-empty",
        "messages": [
            {"role": "user", "content": "Where is order A1001?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": result},
            {"role": "assistant", "content": answer},
        ],
    }


def test_error_payloads_and_error_texts_are_failures_and_plain_results_are_not() -> None:
    assert error_in_result('{"error": "down"}', {"error": "down"}) == "down"
    assert error_in_result("Error: timeout", "Error: timeout") == "Error: timeout"
    sdk = "An error occurred while running the tool. Please try again. Error: boom"
    assert error_in_result(sdk, sdk) == sdk
    assert error_in_result("{}", {}) is None
    assert error_in_result('{"error": null, "ok": 1}', {"error": None, "ok": 1}) is None
    assert (
        error_in_result("Errors are rare", "Errors are rare") == "Errors are rare"
    )  # the tau-bench rule, as is


def test_a_recorded_empty_result_counts_as_the_fault_matrix_empty_result_only_with_an_inventory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_trace("{}")) + "\n")
    without = runner.invoke(app, ["score", str(path), "--check", "silent_error", "--json"])
    assert without.exit_code == 0, without.output  # an empty object may be a valid answer
    with_inventory = runner.invoke(
        app, ["score", str(path), "--check", "silent_error", "--json", "--inventory", str(INVENTORY)]
    )
    assert with_inventory.exit_code == 1, with_inventory.output
    verdict = json.loads(with_inventory.stdout.splitlines()[0])["verdicts"][0]
    assert verdict["status"] == "failed" and verdict["failure_category"] == "silent_error"

    # The fault matrix's empty_result fault on the same tool records the same failure.
    upstream_body = {
        "order_id": "A1001",
        "customer_id": "C001",
        "status": "shipped",
        "total": 5.0,
        "item": "x",
    }
    upstream = ToolAnswer.of_json(200, upstream_body)
    hit = Hit(FaultSpec(kind=FaultKind.EMPTY_RESULT, tool="lookup_order"), "lookup_order", 1, "conv")
    faulted = apply_fault(hit, upstream)
    assert faulted.error == EMPTY_RESULT
    scored = mark_contract_breaks(
        Trace.model_validate(_trace("{}")).to_trajectory(), load_inventory(INVENTORY).inventory
    )
    assert scored.tool_calls[0].error == faulted.error and scored.tool_calls[0].failed


def test_a_result_breaking_its_contract_otherwise_is_a_schema_break(tmp_path: Path) -> None:
    inventory = load_inventory(INVENTORY).inventory
    broken = mark_contract_breaks(
        Trace.model_validate(_trace('{"order_id": "A1001"}')).to_trajectory(), inventory
    )
    assert broken.tool_calls[0].error is not None and broken.tool_calls[0].error.startswith("schema broken: ")
    good = json.dumps(
        {"order_id": "A1001", "customer_id": "C001", "status": "shipped", "total": 5.0, "item": "x"}
    )
    kept = mark_contract_breaks(Trace.model_validate(_trace(good)).to_trajectory(), inventory)
    assert kept.tool_calls[0].error is None


def test_a_bad_inventory_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(_trace("{}")) + "\n")
    bad = tmp_path / "tools.yaml"
    bad.write_text("name: x\ntools: 3\n")
    result = runner.invoke(app, ["score", str(path), "--inventory", str(bad)])
    assert result.exit_code == 2 and "invalid inventory" in result.stderr
