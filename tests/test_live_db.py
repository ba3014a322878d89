"""Live sampling tables on SQLite and PostgreSQL: the health time series, scores, anomalies, reviews."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from tests.live_data import trace_dict
from trailcheck.db import dispose_engines, get_engine
from trailcheck.db import live as live_db
from trailcheck.models import Trace, Verdict, VerdictStatus
from trailcheck.models.health import Anomaly, HealthWindow, LiveRunResult
from trailcheck.models.live import Review, ReviewDecision, ScoredTrace
from trailcheck.models.sampling import SampleReason

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'results.db'}"
        yield get_engine(url)
        dispose_engines(url)
        return
    engine = get_engine(request.getfixturevalue("postgres_url"))
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE live_runs, health_windows, live_scores, anomalies, review_decisions "
                "RESTART IDENTITY CASCADE"
            )
        )
    yield engine


def _window(hour: int, task_type: str = "refund", **changes: object) -> HealthWindow:
    values: dict[str, object] = {
        "task_type": task_type,
        "window_start": T0 + timedelta(hours=hour),
        "window_s": 3600,
        "traces": 100,
        "completed_known": 100,
        "completed": 97,
        "escalated": 3,
        "cost_n": 100,
        "cost_mean": 0.0012,
        "cost_p95": 0.003,
        "tool_calls": 150,
        "tool_errors": 2,
        "sampled": 10,
        "quality_n": 10,
        "quality_mean": 0.9,
        "failures": 1,
        "check_failures": {"silent_error": 1},
    }
    return HealthWindow.model_validate(values | changes)


def _run(run_id: str) -> LiveRunResult:
    return LiveRunResult(run_id=run_id, source="traces.jsonl", started_at=T0, read=1000, sampled=10)


def test_health_windows_are_a_time_series_upserted_by_task_type_and_window(engine: Engine) -> None:
    live_db.save_live_run(engine, _run("r1"))
    live_db.record_windows(engine, "r1", [_window(h) for h in range(3)] + [_window(1, "account")])
    live_db.record_windows(engine, "r1", [_window(1, traces=250)])  # the same window read again replaces it
    got = live_db.load_windows(engine, 3600)
    assert [(w.task_type, w.window_start, w.traces) for w in got] == [
        ("refund", T0, 100),
        ("account", T0 + timedelta(hours=1), 100),
        ("refund", T0 + timedelta(hours=1), 250),
        ("refund", T0 + timedelta(hours=2), 100),
    ]
    assert got[0] == _window(0)
    ranged = live_db.load_windows(engine, 3600, since=T0 + timedelta(hours=1), before=T0 + timedelta(hours=2),
                                  task_types=["refund"])  # fmt: skip
    assert [w.traces for w in ranged] == [250]
    assert live_db.load_windows(engine, 60) == []


def test_scores_anomalies_and_reviews_round_trip_and_a_trace_can_be_found_again(engine: Engine) -> None:
    live_db.save_live_run(engine, _run("r2"))
    trace = Trace.model_validate(trace_dict(7, tool_error=True))
    scored = ScoredTrace(
        trace_id="t-000007",
        task_type="refund",
        timestamp=trace.timestamp,
        reasons=[SampleReason.ERRORED],
        uniform=False,
        verdicts=[Verdict(check="silent_error", status=VerdictStatus.FAILED, reason="claims success")],
        quality=0.0,
        failed=True,
        review=Review(
            trace_id="t-000007", decision=ReviewDecision.REJECTED, decided_by="person", expected="admit it"
        ),
    )
    live_db.record_scores(engine, "r2", [(scored, trace)])
    live_db.record_scores(
        engine, "r2", [(scored, trace.model_dump_json())]
    )  # a retried task replaces, never duplicates
    found = live_db.find_trace(engine, "t-000007")
    assert found is not None
    assert found[0] == trace and found[1] == scored
    assert live_db.find_trace(engine, "nope") is None
    passing = scored.model_copy(
        update={"trace_id": "t-000008", "failed": False, "review": None, "verdicts": []}
    )
    live_db.record_scores(engine, "r2", [(scored, trace), (passing, Trace.model_validate(trace_dict(8)))])
    assert live_db.find_trace(engine, "t-000008") is None  # only failing or reviewed traces are kept whole
    assert live_db.find_trace(engine, "t-000007") is not None

    anomaly = Anomaly(
        task_type="refund", window_start=T0, metric="cost_mean", value=2.0, baseline=1.0, detail="z 9"
    )
    live_db.record_anomalies(engine, "r2", [anomaly])
    stored = live_db.load_anomalies(engine, "r2")
    assert [(a.metric, a.value, a.detail) for a in stored] == [("cost_mean", 2.0, "z 9")]

    first = Review(trace_id="t-000007", decision=ReviewDecision.APPROVED, decided_by="timeout")
    live_db.record_reviews(engine, "r2", [first])
    live_db.record_reviews(engine, "r2", [scored.review])  # type: ignore[list-item]
    reviews = live_db.load_reviews(engine, "r2")
    assert [(r.decision, r.decided_by, r.expected) for r in reviews] == [
        (ReviewDecision.REJECTED, "person", "admit it")
    ]
