"""Values PostgreSQL cannot store, and a database that stops answering: bounded, spooled, nothing lost.

The frozen database here is the shared PostgreSQL behind a TCP relay that stops forwarding (its
connections stay open, new ones are accepted and never answered): what a SIGSTOPped server looks
like from the client. `test_frozen_postgres.py` (``-m soak``) freezes a real server of its own.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests import fault_agents
from tests.faults import TcpRelay, when
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.db._text import ESCAPE, escape, unescape
from trailcheck.db.guard import breaker_for, reset_breakers
from trailcheck.db.spool import flush_spool, pending_runs

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.postgres]
N_CASES = 12


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    fault_agents.reset()
    reset_breakers()
    yield tmp_path
    reset_breakers()


def write_suite(path: Path, task_type: str = "support", n: int = N_CASES) -> Path:
    cases = "".join(
        f'  - id: case-{i:02d}\n    task_type: "{task_type}"\n    turns: [order {i}]\n'
        "    expectations: {final_answer: {contains: [done]}}\n"
        for i in range(n)
    )
    path.write_text(f"name: robust\nversion: '1'\ncases:\n{cases}")
    return path


def stored(postgres_url: str, run_id: str) -> list[tuple[str, int]]:
    engine = create_engine(db.database_url(postgres_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT case_id, trial FROM case_results WHERE run_id = :r"), {"r": run_id}
            ).all()
    finally:
        engine.dispose()
    return sorted((c, t) for c, t in rows)


@pytest.mark.parametrize(
    "value", ["", "plain", "\x00", "a\x00b", ESCAPE, ESCAPE + "0", "\x00" + ESCAPE * 2 + "0"]
)
def test_escaping_round_trips_any_string(value: str) -> None:
    assert unescape(escape(value)) == value and "\x00" not in escape(value)


def test_nul_everywhere_on_postgres_loses_nothing(home: Path, postgres_url: str) -> None:
    suite = write_suite(home / "nul.yaml", task_type="sup\\0port")  # YAML "\0" is NUL
    run = regression(suite=str(suite), agent="python:tests.fault_agents:nul", concurrency=2, shard_size=5,
                     database_url=postgres_url, run_id="nul-everywhere")  # fmt: skip
    assert run.spool is None, run.spool  # nothing had to be spooled: the database took it all
    assert len(run.cases) == N_CASES  # judged (the tool error fails them), and all recorded
    engine = db.get_engine(postgres_url)
    assert db.run_status(engine, "nul-everywhere") is db.RunStatus.COMPLETED
    results = db.load_case_results(engine, "nul-everywhere")
    assert len(results) == N_CASES
    first = results[0]
    assert first.task_type == "sup\x00port"  # restored exactly on read
    assert (
        first.trajectory.final_answer == "done\x00: order 0\x00 \ufffd"
    )  # a lone surrogate cannot be stored
    call = first.trajectory.tool_calls[0]
    assert call.name == "lookup\x00" and call.args == {"q\x00": "a\x00b"} and "\x00" in (call.error or "")


def test_a_frozen_database_ends_the_run_in_bounded_time_with_everything_spooled(
    home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_DB_TIMEOUT_S", "2")
    suite = write_suite(home / "frozen.yaml", n=30)
    with TcpRelay(5432) as relay:
        url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
        # The agent runs in a process of its own: the fault comes once the first trials are stored.
        when(lambda: len(stored(postgres_url, "frozen-mid-run")) >= 3, relay.freeze)
        started = time.monotonic()
        run = regression(suite=str(suite), agent="python:tests.fault_agents:slow", concurrency=1,
                         shard_size=3, database_url=url, run_id="frozen-mid-run")  # fmt: skip
        took = time.monotonic() - started
        assert run.spool is not None and run.spool.pending, run.spool
        assert "no answer within 2 s" in run.spool.reason
        # One deadline to learn it is frozen, then spooled at once, plus the run's last try to flush.
        assert took < 60, took
        assert breaker_for(db.database_url(url)).is_open
        relay.thaw()
        assert flush_spool(url) > 0
    assert stored(postgres_url, "frozen-mid-run") == [(f"case-{i:02d}", 0) for i in range(30)]
    assert run.spool.spooled >= 3
    assert pending_runs(url) == []
