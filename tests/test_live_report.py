"""What a person reads about a live run: the Markdown summary (snapshot) and the per-task-type table."""

import os
from datetime import UTC, datetime
from pathlib import Path

from trailcheck.models import FailureCategory, Verdict, VerdictStatus
from trailcheck.models.health import Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ReviewDecision, ScoredTrace
from trailcheck.models.sampling import SampleReason
from trailcheck.render.markdown_live import render_live_summary, task_type_rows

SNAPSHOT = Path(__file__).parent / "snapshots" / "live_summary.md"
T0 = datetime(2026, 11, 1, 20, tzinfo=UTC)


def _window(task_type: str, hour: int, cost: float, failures: int = 0) -> HealthWindow:
    counts = {"traces": 100, "completed_known": 100, "completed": 95, "escalated": 2, "cost_n": 100,
              "tool_calls": 120, "tool_errors": 3, "sampled": 25, "quality_n": 25}  # fmt: skip
    return HealthWindow(
        task_type=task_type, window_start=T0.replace(hour=hour), window_s=3600, cost_mean=cost,
        cost_p95=cost * 2, quality_mean=0.9, failures=failures, **counts,
    )  # fmt: skip


def result() -> LiveRunResult:
    hostile = ScoredTrace(
        trace_id="t-9`](http://evil)",
        task_type="refund | <b>x</b>",
        reasons=[SampleReason.ERRORED],
        uniform=False,
        verdicts=[
            Verdict(
                check="silent_error",
                status=VerdictStatus.FAILED,
                reason="claims success",
                failure_category=FailureCategory.SILENT_ERROR,
            )
        ],
        failed=True,
        review=Review(trace_id="t-9", decision=ReviewDecision.REJECTED, decided_by="person"),
    )
    return LiveRunResult(
        run_id="abc123",
        source="prod.jsonl",
        started_at=T0,
        flow_run_url="http://127.0.0.1:4200/runs/flow-run/xyz",
        read=12000,
        bad_records=1,
        bad_record_examples=[
            "prod.jsonl:7: field 'cost': Input should be greater than or equal to 0\n    fix: ..."
        ],
        sampled=3000,
        sampled_by_reason={"rate": 2900, "errored": 100},
        judge="not configured",
        windows=[
            _window("refund", 20, 0.0006),
            _window("refund", 21, 0.0008, 3),
            _window("account", 20, 0.0004),
        ],
        anomalies=[
            Anomaly(
                task_type="refund",
                window_start=T0,
                metric="cost_mean",
                value=0.0008,
                baseline=0.0006,
                detail="mean cost $0.00080 vs median $0.00060 of 20 windows: robust z 10.6 > 4.5 (n=137)",
            )
        ],
        reviewed=1,
        rejected=1,
        review_pending=2,
        failing=[hostile],
        promoted=["live-t-9"],
    )


def test_summary_matches_the_reviewed_snapshot() -> None:
    rendered = render_live_summary(result())
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "live summary changed: review, then UPDATE_SNAPSHOTS=1"
    assert "`t-9'](http://evil)`" in rendered  # a code span: not a link
    assert "<b>" not in rendered and "refund | " not in rendered


def test_task_type_table_adds_windows_up() -> None:
    rows = {r["task type"]: r for r in task_type_rows(result())}
    assert list(rows) == ["account", "refund"]
    refund = rows["refund"]
    assert refund["traces"] == 200 and refund["cost mean"] == "$0.00070" and refund["failure rate"] == "6.0%"
    assert refund["anomalies"] == 1 and rows["account"]["anomalies"] == 0
