"""The regression flow end to end under a real Prefect API: reference agent over HTTP, SQLite, PostgreSQL."""

from pathlib import Path

import pytest

from tests.prefect_artifacts import run_artifacts
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.models import CaseStatus, RunResult
from trailcheck.tasks.run_setup import plan_parallelism

SUITE = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('flow') / 'results.db'}"


@pytest.fixture(scope="module")
def v1_run(sqlite_url: str) -> RunResult:
    return regression(
        suite=str(SUITE), agent="reference:v1", trials=2, concurrency=4, shard_size=4, database_url=sqlite_url
    )




def test_v1_passes_every_case_and_is_recorded(v1_run: RunResult, sqlite_url: str) -> None:
    assert v1_run.agent_version == "reference-v1"
    assert v1_run.trials == 2 and v1_run.cases
    not_passing = {c.case_id: c.reason for c in v1_run.cases if c.status is not CaseStatus.PASSED}
    assert not_passing == {}
    assert v1_run.pass_at_1 == 1.0 and v1_run.pass_hat_k == {1: 1.0, 2: 1.0}
    engine = db.get_engine(sqlite_url)
    stored = db.get_run(engine, v1_run.run_id)
    assert stored is not None and stored.pass_at_1 == 1.0
    results = db.load_case_results(engine, v1_run.run_id)
    assert len(results) == 2 * len(v1_run.cases)  # every trial of every case, once
    assert all(r.trajectory.steps for r in results)


def test_artifacts_are_published_per_suite(v1_run: RunResult) -> None:
    summary = run_artifacts(v1_run.flow_run_id, "regression-support-desk-summary")
    assert summary, "a markdown summary artifact keyed by suite"
    assert any(v1_run.run_id in (a.data or "") for a in summary)
    cases = run_artifacts(v1_run.flow_run_id, "regression-support-desk-cases")
    assert cases and cases[0].type == "table"


def test_v2_regressions_are_found_against_the_v1_baseline(v1_run: RunResult, sqlite_url: str) -> None:
    v2 = regression(
        suite=str(SUITE), agent="reference:v2", baseline_version="reference-v1", database_url=sqlite_url
    )
    assert not v2.ok
    assert v2.comparison is not None and v2.comparison.baseline_run_id == v1_run.run_id
    regressed = {r.case_id: r for r in v2.comparison.regressions}
    assert {"refund-not-delivered", "refund-outside-window", "refund-provider-down"} <= set(regressed)
    skipped_lookup = regressed["refund-not-delivered"]
    assert skipped_lookup.divergence is not None
    assert "lookup_order" in (skipped_lookup.divergence.baseline_step or "")
    assert "issue_refund" in (skipped_lookup.divergence.current_step or "")
    hidden_failure = regressed["refund-provider-down"]
    assert hidden_failure.failure_category is not None
    assert hidden_failure.failure_category.value == "silent_error"
    passing_in_both = {c.case_id for c in v2.cases if c.status is CaseStatus.PASSED}
    assert "order-status" in passing_in_both  # v2 only broke what it broke


def test_agent_down_errors_every_case_and_the_run_completes(sqlite_url: str) -> None:
    run = regression(suite=str(SUITE), agent="http://127.0.0.1:1/chat", database_url=sqlite_url)
    assert {c.status for c in run.cases} == {CaseStatus.ERRORED}
    assert run.pass_at_1 == 0.0 and not run.ok
    assert all("127.0.0.1:1" in c.reason for c in run.cases)
    stored = db.get_run(db.get_engine(sqlite_url), run.run_id)
    assert stored is not None and stored.count(CaseStatus.ERRORED) == len(run.cases)


@pytest.mark.postgres
def test_flow_against_postgresql(postgres_url: str) -> None:
    run = regression(suite=str(SUITE), agent="reference:v1", database_url=postgres_url)
    engine = db.get_engine(postgres_url)
    assert engine.dialect.name == "postgresql"
    assert db.get_run(engine, run.run_id) == run
    assert len(db.load_case_results(engine, run.run_id)) == len(run.cases)


@pytest.mark.parametrize(
    ("shards", "concurrency", "expected"), [(1, 8, (1, 8)), (10, 32, (4, 8)), (10, 1, (1, 1))]
)
def test_parallelism_stays_within_concurrency(
    shards: int, concurrency: int, expected: tuple[int, int]
) -> None:
    parallel, per_shard = plan_parallelism(shards, concurrency)
    assert (parallel, per_shard) == expected
    assert parallel * per_shard <= concurrency
