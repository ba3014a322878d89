"""The live_sampling flow under Prefect's test harness: end to end on the reference stream, and the
human review gate (approve, reject, timeout default) through pause_flow_run with a typed form."""

import asyncio
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from typer.testing import CliRunner

from tests.live_data import jsonl, trace_dict
from tests.prefect_artifacts import run_artifacts
from trailcheck import db
from trailcheck.agents.reference.tracegen import StreamConfig, write_stream
from trailcheck.cli import app
from trailcheck.db import live as live_db
from trailcheck.flows.live_sampling import live_sampling
from trailcheck.loading.suite import load_suite
from trailcheck.models import FailureCategory, VerdictStatus
from trailcheck.models.health import LiveRunResult
from trailcheck.models.live import ReviewDecision
from trailcheck.models.sampling import SamplingPolicy

pytestmark = pytest.mark.usefixtures("prefect_harness")
START = datetime(2026, 11, 1, tzinfo=UTC)
# The built-in silent_error check alone, so the counts below are those of one check.
CHECKS = ["silent_error"]
SUITE = Path(__file__).resolve().parent.parent / "suites" / "support-desk.yaml"


def test_the_flow_flags_the_generated_cost_drift_and_silent_errors_when_they_start(tmp_path: Path) -> None:
    drift_at, silent_at = START + timedelta(hours=20), START + timedelta(hours=24)
    stream = tmp_path / "prod.jsonl"
    write_stream(stream, StreamConfig(start=START, hours=30, traces_per_hour=400, seed=3,
                                      cost_drift_at=drift_at, silent_errors_from=silent_at))  # fmt: skip
    url = f"sqlite:///{tmp_path / 'results.db'}"
    result = live_sampling(
        source=str(stream),
        sampling=SamplingPolicy(rate=0.25, seed=1, min_per_task_type=5),
        database_url=url,
        checks=CHECKS,
    )
    assert result.read == 12_000 and result.bad_records == 0
    assert result.judge == "not configured"
    assert result.sampled_by_reason["rate"] > 2500 and result.sampled_by_reason["errored"] > 0
    assert min(a.window_start for a in result.anomalies) == drift_at  # nothing flagged before the drift
    cost = {a.task_type for a in result.anomalies if a.metric == "cost_mean" and a.window_start == drift_at}
    assert cost >= {"order_status", "refund", "account"}
    silent = [a for a in result.anomalies if a.metric == "check_failure_rate:silent_error"]
    assert (
        silent
        and min(a.window_start for a in silent) == silent_at
        and {a.task_type for a in silent} == {"refund"}
    )
    assert any(s.failure_category is FailureCategory.SILENT_ERROR for s in result.failing)
    # Silent errors would need review, but review is off: nothing is pending, nobody was asked.
    assert result.reviewed == result.review_pending == 0
    assert any(s.review_reason for s in result.failing)

    engine = db.get_engine(url)
    windows = live_db.load_windows(engine, 3600)
    assert len(windows) == 30 * 4 and sum(w.traces for w in windows) == 12_000
    assert len(live_db.load_anomalies(engine, result.run_id)) == len(result.anomalies)
    stored = live_db.find_trace(engine, result.failing[0].trace_id)
    assert stored is not None and stored[1].failed

    summary = run_artifacts(result.flow_run_id, "live-prod-summary")
    assert summary and "cost_mean" in (summary[0].data or "")
    table = run_artifacts(result.flow_run_id, "live-prod-task-types")
    assert table and table[0].type == "table"

    # The next hour, read by the next run, is judged against the history stored by this one.
    later = tmp_path / "later.jsonl"
    write_stream(later, StreamConfig(start=START + timedelta(hours=30), hours=1, traces_per_hour=400, seed=4))
    next_run = live_sampling(
        source=str(later), database_url=url, sampling=SamplingPolicy(rate=0.25), checks=CHECKS
    )
    # Cost is back to its old level: lower than the drifted history, so no alarm; the run saw the history.
    assert next_run.read == 400 and not [a for a in next_run.anomalies if a.metric == "cost_mean"]


def _paused_runs() -> list[UUID]:
    async def read() -> list[UUID]:
        async with get_client() as client:
            runs = await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
                )
            )
            return [r.id for r in runs]

    return asyncio.run(read())


def _wait_for_pause(timeout_s: float = 60) -> UUID:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        paused = _paused_runs()
        if paused:
            return paused[0]
        time.sleep(0.2)
    raise AssertionError("the flow run never paused for review")


def _run_in_thread(**params: object) -> tuple[threading.Thread, dict[str, LiveRunResult]]:
    out: dict[str, LiveRunResult] = {}

    def target() -> None:
        out["result"] = live_sampling(**params)  # type: ignore[arg-type]

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


runner = CliRunner()


def _review_stream(tmp_path: Path) -> Path:
    traces = [trace_dict(i) for i in range(6)]
    traces.append(
        trace_dict(100, tool_error=True, answer="Your refund has been processed.")
        | {"context": {"customer_id": "C200"}}
    )
    traces.append(trace_dict(101, tool_error=True, answer="All done!"))
    path = tmp_path / "review.jsonl"
    path.write_text(jsonl(traces))
    return path


def test_review_gate_a_person_rejects_one_approves_another_and_the_rejected_one_is_promoted(
    tmp_path: Path,
) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(SUITE.read_text())
    url = f"sqlite:///{tmp_path / 'results.db'}"
    thread, out = _run_in_thread(
        source=str(_review_stream(tmp_path)), sampling=SamplingPolicy(rate=1.0), review=True, review_poll_s=1,
        review_timeout_s=120, promote_to=str(suite), database_url=url, checks=CHECKS,
    )  # fmt: skip
    paused = str(_wait_for_pause())
    # One pause for both traces, answered from a shell: list, show, decide.
    listed = runner.invoke(app, ["review", "list"])
    assert listed.exit_code == 0 and f"{paused}" in listed.output and "2 trace(s)" in listed.output
    shown = runner.invoke(app, ["review", "show", paused])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    number = {tid: n for n, tid in re.findall(r"### (\d)\. trace `(t-\d+)`", text)}
    assert set(number) == {"t-000100", "t-000101"}
    assert "assistant: Your refund has been processed." in text and "silent_error" in text
    undecided = runner.invoke(app, ["review", "decide", paused, "--reject", number["t-000100"]])
    assert undecided.exit_code == 2 and "have no decision" in undecided.output
    decided = runner.invoke(
        app,
        ["review", "decide", paused, "--reject", number["t-000100"], "--approve", number["t-000101"],
         "--expected", f"{number['t-000100']}=Say the refund failed and escalate."],
    )  # fmt: skip
    assert decided.exit_code == 0, decided.output
    thread.join(timeout=120)
    assert not _paused_runs()  # it did not pause again for the second trace
    result = out["result"]
    assert result.reviewed == 2 and result.rejected == 1 and result.review_pending == 0
    engine = db.get_engine(url)
    reviews = {r.trace_id: r for r in live_db.load_reviews(engine, result.run_id)}
    assert set(reviews) == {"t-000100", "t-000101"}
    decisions = sorted((r.decision, r.decided_by) for r in reviews.values())
    assert decisions == [(ReviewDecision.APPROVED, "person"), (ReviewDecision.REJECTED, "person")]
    rejected = next(r for r in reviews.values() if r.decision is ReviewDecision.REJECTED)
    # The rejected output counts as a failure in the health metrics.
    assert sum(w.failures for w in result.windows) == 2  # both failed the silent_error check
    assert result.promoted == [f"live-{rejected.trace_id}"]
    case = next(c for c in load_suite(suite).cases if c.id == result.promoted[0])
    assert case.origin is not None and case.origin.expected == "Say the refund failed and escalate."
    assert case.failure_category is FailureCategory.SILENT_ERROR
    assert [f.tool for f in case.fixtures] == ["issue_refund"] and case.fixtures[0].status == 500
    assert SUITE.read_text() in suite.read_text()  # appended: the rest of the file is unchanged


def test_review_nobody_answers_and_the_default_applies_without_failing_the_run(tmp_path: Path) -> None:
    path = tmp_path / "one.jsonl"
    odd_id = trace_dict(1, tool_error=True, answer="Done!") | {
        "trace_id": "ord_9:x/ü"
    }  # not a valid Prefect key
    path.write_text(jsonl([odd_id]))
    state = live_sampling(
        source=str(path), sampling=SamplingPolicy(rate=1.0), review=True, review_timeout_s=2, review_poll_s=1,
        review_default=ReviewDecision.REJECTED, database_url=f"sqlite:///{tmp_path / 'r.db'}", checks=CHECKS,
        return_state=True,
    )  # fmt: skip
    assert state.is_completed()
    result = state.result()
    assert result.rejected == 1
    review = result.failing[0].review
    assert (
        review is not None and review.decided_by == "timeout" and review.decision is ReviewDecision.REJECTED
    )


def test_the_judge_key_from_a_prefect_secret_block_and_results_in_postgresql(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret
    from sqlalchemy import text

    from tests.fakes.openai_server import FakeOpenAI, completion
    from trailcheck.serving import serve_in_thread

    key = "sk-live-judge-0042"
    Secret(value=key).save("trailcheck-judge-key", overwrite=True)
    fake = FakeOpenAI().load([completion('{"score": 0.2, "reason": "claims a refund that failed"}')])
    path = tmp_path / "judged.jsonl"
    path.write_text(jsonl([trace_dict(1, tool_error=True, answer="Refunded!"), trace_dict(2)]))
    with serve_in_thread(fake.app()) as base:
        monkeypatch.setenv("TRAILCHECK_JUDGE_URL", f"{base}/v1")
        monkeypatch.setenv("TRAILCHECK_JUDGE_MODEL", "judge-1")
        monkeypatch.delenv("TRAILCHECK_JUDGE_API_KEY", raising=False)
        monkeypatch.setenv("TRAILCHECK_JUDGE_API_KEY_BLOCK", "trailcheck-judge-key")
        result = live_sampling(source=str(path), sampling=SamplingPolicy(rate=1.0), database_url=postgres_url)
    assert result.judge == f"judge-1 at {base}/v1"
    assert len(fake.requests) == 2 and fake.headers[0]["authorization"] == f"Bearer {key}"
    judged = [v for s in result.failing for v in s.verdicts if v.check == "judge"]
    assert judged and judged[0].score == 0.2 and judged[0].status is VerdictStatus.FAILED
    engine = db.get_engine(postgres_url)
    assert live_db.find_trace(engine, "t-000002") is not None
    with engine.connect() as conn:
        stored = " ".join(
            row[0] for table in ("live_runs", "live_scores", "health_windows")
            for row in conn.execute(text(f"SELECT t::text FROM {table} t"))
        )  # fmt: skip
    assert "claims a refund that failed" in stored and key not in stored
