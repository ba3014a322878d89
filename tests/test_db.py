"""The results database against real SQLite files and a real PostgreSQL server.

Each PostgreSQL-backed test runs in a schema of its own module (created here, dropped after), so
parallel or repeated runs never see each other's rows. If PostgreSQL is down these tests fail,
they do not skip: CI starts it, and a silent skip would hide the backend teams use.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from trailcheck.db import (
    ResultsDatabaseError,
    RunStatus,
    UnknownRunError,
    completed_case_keys,
    database_url,
    dispose_engines,
    finish_run,
    get_engine,
    get_run,
    latest_run,
    list_runs,
    load_case_results,
    record_case_results,
    run_status,
    start_run,
)
from trailcheck.db._core import CASE_RESULTS, RUNS, TRAJECTORIES, VERDICTS
from trailcheck.models import (
    AssistantMessage,
    CaseResult,
    CaseSummary,
    Comparison,
    Divergence,
    FailureCategory,
    Regression,
    RunResult,
    TokenUsage,
    ToolCall,
    Trajectory,
    TrajectoryStatus,
    UserMessage,
    Verdict,
    VerdictStatus,
)

T0 = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
SILENT = "issue_refund failed (503) but the answer claims success"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty results database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'results.db'}"
        yield get_engine(url)
        dispose_engines(url)
        return
    engine = get_engine(request.getfixturevalue("postgres_url"))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE runs, case_results, trajectories, verdicts RESTART IDENTITY CASCADE"))
    yield engine


def make_run(run_id: str, **changes: object) -> RunResult:
    fields: dict[str, object] = {
        "run_id": run_id,
        "suite": "support",
        "suite_version": "3",
        "agent_version": "v2",
        "trials": 2,
        "started_at": T0,
    }
    return RunResult.model_validate(fields | changes)


def make_result(
    case_id: str, trial: int, *, answer: str = "Refund issued.", failed: bool = False
) -> CaseResult:
    verdicts = [Verdict(check="tool_calls", status=VerdictStatus.PASSED, score=1.0)]
    if failed:
        verdicts.append(
            Verdict(
                check="final_answer",
                status=VerdictStatus.FAILED,
                score=0.25,
                reason="answer lacks 'refund'",
                failure_category=FailureCategory.QUALITY_DEGRADATION,
                step_index=3,
            )
        )
    trajectory = Trajectory(
        case_id=case_id,
        trial=trial,
        steps=[UserMessage(content="Refund order A17"), AssistantMessage(content=answer)],
        tokens=TokenUsage(input=120, output=30),
        cost_usd=0.0012,
        latency_s=0.4,
        final_answer=answer,
    )
    return CaseResult(
        case_id=case_id, trial=trial, task_type="refund", trajectory=trajectory, verdicts=verdicts
    )


def rich_results() -> list[CaseResult]:
    """A silent error hidden behind a confident answer, a timeout, and a clean pass."""
    failed_tool = Trajectory(
        case_id="Refund-2",
        trial=0,
        steps=[
            UserMessage(content="Refund order A17, amount 12.50 €"),
            ToolCall(
                name="lookup_order",
                args={"order_id": "A17", "fields": ["amount", "status"], "filters": {"paid": True}},
                result={"amount": 12.5, "items": [{"sku": "X", "qty": 2}], "note": None},
                status_code=200,
                latency_s=0.031,
                observed=True,
            ),
            ToolCall(
                name="issue_refund",
                args={"order_id": "A17", "amount": 12.5},
                error="HTTP 503: upstream unavailable",
                status_code=503,
                latency_s=1.5,
                observed=True,
            ),
            AssistantMessage(content="Your refund is on its way!"),
        ],
        tokens=TokenUsage(input=812, output=64),
        cost_usd=0.00431,
        latency_s=2.75,
        final_answer="Your refund is on its way!",
        escalated=False,
    )
    timed_out = Trajectory(
        case_id="refund-10",
        trial=1,
        steps=[UserMessage(content="Where is my parcel?")],
        status=TrajectoryStatus.TIMEOUT,
        error="no answer within 30 s",
        latency_s=30.0,
    )
    return [
        CaseResult(
            case_id="Refund-2",
            trial=0,
            task_type="refund",
            trajectory=failed_tool,
            verdicts=[
                Verdict(check="tool_calls", status=VerdictStatus.PASSED, score=1.0),
                Verdict(
                    check="silent_error",
                    status=VerdictStatus.FAILED,
                    reason=SILENT,
                    failure_category=FailureCategory.SILENT_ERROR,
                    step_index=2,
                ),
                Verdict(check="llm_judge", status=VerdictStatus.SKIPPED, reason="no judge configured"),
                Verdict(check="custom.Polite", status=VerdictStatus.ERRORED, reason="KeyError: 'tone'"),
            ],
        ),
        CaseResult(case_id="refund-10", trial=1, task_type="tracking", trajectory=timed_out),
        make_result("refund-10", 0),
        make_result("refund_1", 0),
    ]


def count_rows(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (RUNS, CASE_RESULTS, TRAJECTORIES, VERDICTS)
        }


def test_run_and_case_results_round_trip_exactly(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    run = make_run("run-1", started_at=datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=paris))
    results = rich_results()
    start_run(engine, run)

    assert record_case_results(engine, "run-1", results) == 4

    assert get_run(engine, "run-1") == run
    loaded = load_case_results(engine, "run-1")
    assert loaded == sorted(results, key=lambda r: (r.case_id, r.trial))
    silent = loaded[0]
    assert isinstance(silent.trajectory.steps[2], ToolCall)
    assert silent.trajectory.steps[2].failed
    assert [v.status for v in silent.verdicts] == ["passed", "failed", "skipped", "errored"]
    assert get_run(engine, "no-such-run") is None
    assert load_case_results(engine, "no-such-run") == []


def test_case_columns_hold_the_queryable_outcome(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    record_case_results(engine, "run-1", rich_results())

    query = select(
        CASE_RESULTS.c.case_id,
        CASE_RESULTS.c.trial,
        CASE_RESULTS.c.status,
        CASE_RESULTS.c.failure_category,
        CASE_RESULTS.c.tokens,
        CASE_RESULTS.c.reason,
    ).order_by(CASE_RESULTS.c.id)
    with engine.connect() as conn:
        rows = [tuple(row) for row in conn.execute(query)]
    assert rows == [
        # the reason lists every failing check, the crashed custom one too
        (
            "Refund-2",
            0,
            "failed",
            "silent_error",
            876,
            f"silent_error: {SILENT}; custom.Polite: KeyError: 'tone'",
        ),
        ("refund-10", 1, "errored", None, 0, "agent timeout: no answer within 30 s"),
        ("refund-10", 0, "passed", None, 150, ""),
        ("refund_1", 0, "passed", None, 150, ""),
    ]


def test_rewriting_a_trial_keeps_one_row_and_the_later_wins(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    first = [make_result("a", 0, failed=True), make_result("a", 1), make_result("b", 0)]
    record_case_results(engine, "run-1", first)

    later = make_result("a", 0, answer="Refund of 12.50 issued.")
    written = record_case_results(engine, "run-1", [make_result("a", 1, failed=True), later])

    assert written == 2
    assert count_rows(engine) == {"runs": 1, "case_results": 3, "trajectories": 3, "verdicts": 4}
    loaded = {(r.case_id, r.trial): r for r in load_case_results(engine, "run-1")}
    assert loaded[("a", 0)] == later
    assert loaded[("a", 1)].status == "failed"
    assert loaded[("b", 0)] == make_result("b", 0)


def test_a_duplicate_within_one_call_keeps_the_last(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))

    written = record_case_results(engine, "run-1", [make_result("a", 0), make_result("a", 0, failed=True)])

    assert written == 1
    assert load_case_results(engine, "run-1") == [make_result("a", 0, failed=True)]


def test_a_batch_of_new_and_rewritten_trials_replaces_only_the_rewritten(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    record_case_results(engine, "run-1", [make_result("a", 0, failed=True), make_result("b", 0)])

    batch = [make_result("c", 0), make_result("a", 0), make_result("d", 0, failed=True)]
    assert record_case_results(engine, "run-1", batch) == 3
    record_case_results(engine, "run-1", batch)  # the same batch again (a retried task) adds nothing

    assert count_rows(engine) == {"runs": 1, "case_results": 4, "trajectories": 4, "verdicts": 5}
    loaded = {r.case_id: r for r in load_case_results(engine, "run-1")}
    assert loaded == {r.case_id: r for r in [*batch, make_result("b", 0)]}


def test_a_refused_batch_leaves_nothing_for_the_next(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    with pytest.raises(UnknownRunError):
        record_case_results(engine, "ghost", [make_result("x", 0), make_result("y", 0)])
    record_case_results(engine, "run-1", [make_result("a", 0)])
    assert count_rows(engine) == {"runs": 1, "case_results": 1, "trajectories": 1, "verdicts": 1}
    assert load_case_results(engine, "run-1") == [make_result("a", 0)]


def test_results_for_a_run_never_started_are_refused(engine: Engine) -> None:
    with pytest.raises(UnknownRunError, match="run 'ghost' was never started"):
        record_case_results(engine, "ghost", [make_result("a", 0)])
    assert count_rows(engine)["case_results"] == 0
    assert record_case_results(engine, "ghost", []) == 0


def test_finish_run_stores_summary_counts_and_status(engine: Engine) -> None:
    run = make_run("run-1")
    start_run(engine, run)
    assert run_status(engine, "run-1") is RunStatus.RUNNING
    done = run.model_copy(
        update={
            "finished_at": T0 + timedelta(minutes=3),
            "flow_run_id": "0b1f8a9e-flow",
            "baseline_version": "v1",
            "cases": [
                CaseSummary(case_id="a", trials=2, passes=2, pass_at_1=1.0, latency_s=0.8, cost_usd=0.002),
                CaseSummary(
                    case_id="b",
                    trials=2,
                    passes=1,
                    pass_at_1=0.5,
                    failure_category=FailureCategory.SILENT_ERROR,
                    reason="silent_error: 503 hidden",
                ),
                CaseSummary(case_id="c", trials=2, passes=0, errored=2, pass_at_1=0.0),
            ],
            "pass_at_1": 0.5,
            "pass_hat_k": {1: 0.5, 2: 1 / 3},
            "comparison": Comparison(
                baseline_run_id="run-0",
                baseline_version="v1",
                regressions=[
                    Regression(
                        case_id="b",
                        baseline_pass_rate=1.0,
                        current_pass_rate=0.5,
                        reason="silent_error: 503 hidden",
                        failure_category=FailureCategory.SILENT_ERROR,
                        divergence=Divergence(step_index=2, baseline_step="tool a()", current_step=None),
                    )
                ],
                fixed=["d"],
            ),
        }
    )

    finish_run(engine, done)

    assert get_run(engine, "run-1") == done
    assert run_status(engine, "run-1") is RunStatus.COMPLETED
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.run_id == "run-1")).one()
    assert (row.passed, row.failed, row.errored) == (1, 1, 1)
    assert (row.pass_at_1, row.pass_hat_k, row.baseline_version) == (0.5, {"1": 0.5, "2": 1 / 3}, "v1")
    assert row.schema_version == 1
    finish_run(engine, done, status="failed")
    assert run_status(engine, "run-1") is RunStatus.FAILED
    with pytest.raises(ValueError, match="final status"):
        finish_run(engine, done, status=RunStatus.RUNNING)


def test_resume_sees_completed_trials_and_keeps_them(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    record_case_results(engine, "run-1", [make_result("a", 0), make_result("a", 1), make_result("b", 0)])
    start_run(engine, make_run("run-2"))
    record_case_results(engine, "run-2", [make_result("z", 0)])

    start_run(engine, make_run("run-1"))

    assert completed_case_keys(engine, "run-1") == {("a", 0), ("a", 1), ("b", 0)}
    assert run_status(engine, "run-1") is RunStatus.RUNNING
    assert completed_case_keys(engine, "nope") == set()


def test_latest_run_finds_the_baseline(engine: Engine) -> None:
    runs = [
        ("v1-old", "support", "v1", 0, "completed"),
        ("v1-new", "support", "v1", 1, "completed"),
        ("v1-broken", "support", "v1", 2, "failed"),
        ("v2-done", "support", "v2", 3, "completed"),
        ("v1-other-suite", "billing", "v1", 4, "completed"),
        ("v2-current", "support", "v2", 5, "running"),
    ]
    for run_id, suite, version, hour, status in runs:
        run = make_run(run_id, suite=suite, agent_version=version, started_at=T0 + timedelta(hours=hour))
        start_run(engine, run)
        if status != "running":
            finish_run(engine, run, status=status)

    def latest(**kwargs: object) -> str | None:
        found = latest_run(engine, "support", **kwargs)  # type: ignore[arg-type]
        return None if found is None else found.run_id

    assert latest(agent_version="v1") == "v1-new"
    assert latest() == "v2-done"
    assert latest(agent_version="v2", exclude_run_id="v2-done") is None
    assert latest(agent_version="v1", exclude_run_id="v1-new") == "v1-old"
    assert latest(status="failed") == "v1-broken"
    assert latest(status=RunStatus.RUNNING, exclude_run_id="v2-current") is None
    assert latest(agent_version="v9") is None


def test_list_runs_is_newest_first_by_instant(engine: Engine) -> None:
    paris = timezone(timedelta(hours=2))
    start_run(engine, make_run("r-0800Z", started_at=datetime(2025, 3, 1, 10, 0, tzinfo=paris)))
    start_run(engine, make_run("r-0900Z", started_at=datetime(2025, 3, 1, 9, 0, tzinfo=UTC)))
    start_run(engine, make_run("r-0700Z", started_at=datetime(2025, 3, 1, 7, 0)))  # naive means UTC
    start_run(engine, make_run("r-billing", suite="billing", started_at=datetime(2025, 3, 2, tzinfo=UTC)))

    assert [r.run_id for r in list_runs(engine)] == ["r-billing", "r-0900Z", "r-0800Z", "r-0700Z"]
    assert [r.run_id for r in list_runs(engine, suite="support", limit=2)] == ["r-0900Z", "r-0800Z"]
    assert list_runs(engine, suite="nope") == []
    with pytest.raises(ValueError, match="limit"):
        list_runs(engine, limit=0)


def test_rows_from_a_newer_schema_are_refused(engine: Engine) -> None:
    start_run(engine, make_run("run-1"))
    with engine.begin() as conn:
        conn.execute(RUNS.update().values(schema_version=99))

    with pytest.raises(ResultsDatabaseError, match="schema version 99, newer than"):
        get_run(engine, "run-1")


def test_database_url_precedence_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRAILCHECK_DATABASE_URL", "sqlite:////srv/tc/env.db")
    assert database_url("sqlite:////srv/tc/explicit.db") == "sqlite:////srv/tc/explicit.db"
    assert database_url() == "sqlite:////srv/tc/env.db"

    monkeypatch.setenv("TRAILCHECK_DATABASE_URL", "")
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path / "home"))
    assert database_url() == f"sqlite:///{tmp_path / 'home' / 'results.db'}"
    assert (tmp_path / "home").is_dir()

    monkeypatch.delenv("TRAILCHECK_HOME")
    monkeypatch.chdir(tmp_path)
    assert database_url() == f"sqlite:///{tmp_path.resolve() / '.trailcheck' / 'results.db'}"
    assert (tmp_path / ".trailcheck").is_dir()


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("postgresql://user@127.0.0.1:5432/test", "postgresql+psycopg://user@127.0.0.1:5432/test"),
        ("postgres://u:p@db/test?sslmode=require", "postgresql+psycopg://u:p@db/test?sslmode=require"),
        ("postgresql+psycopg://u@db/test", "postgresql+psycopg://u@db/test"),
        ("postgresql+asyncpg://u@db/test", "postgresql+asyncpg://u@db/test"),
        ("sqlite:///results.db", "sqlite:///results.db"),
    ],
)
def test_postgres_urls_get_the_psycopg3_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, resolved: str
) -> None:
    assert database_url(given) == resolved
    monkeypatch.setenv("TRAILCHECK_DATABASE_URL", given)
    assert database_url() == resolved


def test_unreachable_postgres_names_the_url_without_its_password() -> None:
    url = "postgresql://trail:s3cret-pw@127.0.0.1:1/test"

    for _ in range(2):  # a failed connection is not cached: the second call tries again
        with pytest.raises(ResultsDatabaseError) as caught:
            get_engine(url)
        message = str(caught.value)
        assert "postgresql+psycopg://trail:***@127.0.0.1:1/test" in message
        assert "s3cret-pw" not in message
        assert "refused" in message.lower()
        assert isinstance(caught.value.__cause__, OperationalError)


def test_unopenable_sqlite_file_is_a_database_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    url = f"sqlite:///{tmp_path / 'a-file' / 'results.db'}"
    with pytest.raises(ResultsDatabaseError, match="unable to open database file"):
        get_engine(url)


def test_a_missing_sqlite_folder_is_created_on_first_use(tmp_path: Path) -> None:
    # A fresh clone has no .trailcheck/: the README's URL must work there without a manual mkdir.
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'results.db'}"
    get_engine(url)
    assert (tmp_path / "missing-dir" / "results.db").exists()


def test_sqlite_is_shared_safely_and_its_schema_survives_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    engine = get_engine(url)
    assert get_engine(url) is engine
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    start_run(engine, make_run("run-1"))
    dispose_engines(url)

    reopened = get_engine(url)

    assert reopened is not engine
    assert get_run(reopened, "run-1") == make_run("run-1")
    dispose_engines(url)
