"""Load: many cases at high concurrency against the fake agent with 1% injected errors; every case is
in the results database exactly once, with the right status.

The normal run replays 300 cases (SQLite and PostgreSQL); `make soak` replays 10,000 at concurrency
64 against the fake agent in a process of its own (`@pytest.mark.soak`).
"""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.fake_agent import create_app, injected_error
from bench.workload import write_suite
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.models import CaseStatus
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.usefixtures("prefect_harness")
ERROR_RATE = 0.01


def expected_errored(n_cases: int) -> set[str]:
    return {f"case-{i:05d}" for i in range(n_cases) if injected_error(f"A{i:05d}", ERROR_RATE)}


def check_accounted_for(url: str, run_id: str, n_cases: int) -> None:
    """Every case once in the DB, errored exactly where an error was injected, the rest passed."""
    engine = create_engine(db.database_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT case_id, trial, status FROM case_results WHERE run_id = :r"), {"r": run_id}
            ).all()
            trajectories = conn.execute(
                text(
                    "SELECT count(*) FROM trajectories t JOIN case_results c ON c.id = t.case_result_id "
                    "WHERE c.run_id = :r"
                ),
                {"r": run_id},
            ).scalar()
            status = conn.execute(text("SELECT status FROM runs WHERE run_id = :r"), {"r": run_id}).scalar()
    finally:
        engine.dispose()
    ids = [r.case_id for r in rows]
    assert len(ids) == len(set(ids)) == n_cases and trajectories == n_cases
    assert set(ids) == {f"case-{i:05d}" for i in range(n_cases)}
    errored = {r.case_id for r in rows if r.status == "errored"}
    assert errored == expected_errored(n_cases) and len(errored) == n_cases * ERROR_RATE
    assert {r.status for r in rows if r.case_id not in errored} == {"passed"}
    assert status == "completed"


@pytest.fixture(scope="module")
def fake_agent() -> Iterator[str]:
    with serve_in_thread(create_app(0.002, ERROR_RATE)) as base:
        yield f"{base}/chat"


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_300_cases_at_concurrency_64_are_each_recorded_once(
    fake_agent: str, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    n = 300
    suite = write_suite(tmp_path / "load.yaml", n)
    url = (
        request.getfixturevalue("postgres_url") if backend == "postgres" else f"sqlite:///{tmp_path / 'r.db'}"
    )
    run = regression(
        suite=str(suite),
        agent=fake_agent,
        concurrency=64,
        shard_size=50,
        database_url=url,
        run_id=f"load-{backend}",
    )
    assert len(run.cases) == n and run.count(CaseStatus.ERRORED) == n * ERROR_RATE
    assert run.failures_by_origin()["agent"] == n * ERROR_RATE
    check_accounted_for(url, run.run_id, n)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.soak
@pytest.mark.postgres
def test_soak_10000_cases_at_concurrency_64(tmp_path: Path, postgres_url: str) -> None:
    n = 10_000
    port = _free_port()
    agent = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_agent", "--port", str(port), "--latency-ms", "20",
         "--error-rate", str(ERROR_RATE)],
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert agent.poll() is None and time.monotonic() < deadline, "fake agent did not start"
                time.sleep(0.1)
        suite = write_suite(tmp_path / "soak.yaml", n)
        run = regression(
            suite=str(suite),
            agent=f"http://127.0.0.1:{port}/chat",
            concurrency=64,
            shard_size=250,
            database_url=postgres_url,
            run_id="soak-10000",
        )
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    assert len(run.cases) == n and run.count(CaseStatus.ERRORED) == n * ERROR_RATE
    check_accounted_for(postgres_url, run.run_id, n)
