"""The Markdown summary a person reads in the Prefect UI: snapshot-tested, and agent text escaped."""

import os
from datetime import UTC, datetime
from pathlib import Path

from trailcheck.models import CaseSummary, Comparison, Divergence, FailureCategory, Regression, RunResult
from trailcheck.render.markdown import case_table_rows, escape_markdown, render_summary_markdown

SNAPSHOT = Path(__file__).parent / "snapshots" / "summary.md"
HOSTILE = "Done! [click here](http://evil.example) <script>x</script> | col | @channel\n# Heading"


def run() -> RunResult:
    return RunResult(
        run_id="run-2",
        suite="support-desk",
        suite_version="1",
        agent_version="reference-v2",
        baseline_version="reference-v1",
        trials=2,
        started_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        cases=[
            CaseSummary(
                case_id="order-status", trials=2, passes=2, pass_at_1=1.0, cost_usd=0.0004, latency_s=0.01
            ),
            CaseSummary(
                case_id="refund-provider-down",
                trials=2,
                passes=0,
                pass_at_1=0.0,
                failure_category=FailureCategory.SILENT_ERROR,
                reason=f"final_answer: must not say 'processed' in {HOSTILE!r}",
            ),
            CaseSummary(
                case_id="agent-down", trials=2, passes=0, errored=2, pass_at_1=0.0, reason="agent errored"
            ),
        ],
        pass_at_1=1 / 3,
        pass_hat_k={1: 1 / 3, 2: 1 / 3},
        comparison=Comparison(
            baseline_run_id="run-1",
            baseline_version="reference-v1",
            regressions=[
                Regression(
                    case_id="refund-provider-down",
                    baseline_pass_rate=1.0,
                    current_pass_rate=0.0,
                    reason="final_answer: must not say 'processed'",
                    failure_category=FailureCategory.SILENT_ERROR,
                    divergence=Divergence(
                        step_index=1, baseline_step="tool lookup_order(order_id='A1005')", current_step=None
                    ),
                )
            ],
            fixed=["order-status"],
        ),
    )


def test_summary_matches_the_reviewed_snapshot() -> None:
    rendered = render_summary_markdown(run(), "http://127.0.0.1:4200/runs/flow-run/abc")
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "summary changed: review, then UPDATE_SNAPSHOTS=1"


def test_agent_text_cannot_inject_markdown() -> None:
    escaped = escape_markdown(HOSTILE)
    assert "\n" not in escaped
    assert "[click here](http" not in escaped and "\\[click here\\]\\(http" in escaped
    assert "<script>" not in escaped and "\\|" in escaped
    rendered = render_summary_markdown(run())
    failing_rows = [line for line in rendered.splitlines() if line.startswith("| refund\\-provider\\-down")]
    assert len(failing_rows) == 1 and failing_rows[0].count(" | ") == 3  # no extra table cells


def test_table_rows() -> None:
    rows = case_table_rows(run())
    assert [r["status"] for r in rows] == ["passed", "failed", "errored"]
    assert rows[1]["passes"] == "0/2" and rows[1]["category"] == "silent_error"
    assert "<script>" not in str(rows[1]["reason"])


def test_code_spans_cannot_be_closed_by_agent_text() -> None:
    from trailcheck.render.markdown import code_span

    assert code_span("tool f(x='`](http://evil)')") == "`tool f(x=''](http://evil)')`"
