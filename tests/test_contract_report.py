"""The contracts artifact a person reads, as a snapshot; untrusted text cannot add Markdown."""

import os
from datetime import UTC, datetime
from pathlib import Path

from trailcheck.models.contract import ContractRunResult, ExpectationOutcome, ToolContractResult
from trailcheck.render.markdown_contracts import render_contracts_markdown

SNAPSHOT = Path(__file__).parent / "snapshots" / "contracts.md"


def _result() -> ContractRunResult:
    broken = ExpectationOutcome(
        expectation="expect_column_values_to_be_in_set", column="status", kwargs={"value_set": ["open"]},
        success=False, element_count=12, unexpected_count=2, examples=["[click](http://x)", "lost"],
        example_sources=["run 3f2a case refund-ok trial 0 step 1"],
    )  # fmt: skip
    return ContractRunResult(
        run_id="abc123",
        inventory="reference-support-desk",
        started_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        window_start=datetime(2026, 11, 19, 10, 0, tzinfo=UTC),
        window_end=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        sources=["results database sqlite:///results.db", "traces.jsonl"],
        failed_calls=3,
        untracked_tools={"get_weather": 2},
        tools=[
            ToolContractResult(tool="create_ticket", suite="create_ticket", owner="support-ops@example.com",
                               responses=12, rows=12,
                               outcomes=[broken, ExpectationOutcome(expectation="expect_column_to_exist",
                                                                    column="ticket_id", success=True)]),
            ToolContractResult(tool="lookup_order", suite="lookup_order", owner="orders-team@example.com",
                               responses=0, rows=0),
        ],
    )  # fmt: skip


def test_contracts_markdown_snapshot() -> None:
    rendered = render_contracts_markdown(_result(), "http://127.0.0.1:4200/runs/flow-run/1")
    if not SNAPSHOT.exists() or os.environ.get("UPDATE_SNAPSHOTS"):  # written for review
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "contracts summary changed: review, then UPDATE_SNAPSHOTS=1"
    assert "[click](http://x)" not in rendered  # a response value cannot add a link


def test_findings_for_a_notifier() -> None:
    result = _result()
    (finding,) = result.findings
    assert finding.failure_category.value == "integration" and finding.owner == "support-ops@example.com"
    assert finding.reason == (
        "expect_column_values_to_be_in_set(status): 2 of 12 values unexpected; "
        "e.g. '[click](http://x)', 'lost' (from run 3f2a case refund-ok trial 0 step 1)"
    )
    assert not result.ok and result.responses == 12
    assert ContractRunResult.model_validate_json(result.model_dump_json()) == result
