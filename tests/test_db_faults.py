"""The results database fails in the middle of a run: nothing completed is lost, nothing is written twice.

PostgreSQL is reached through a TCP relay the test cuts and restores (the shared server keeps
running for the other tests); a real regression flow replays a suite against an in-process agent
whose hooks cut the relay at a known trial.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests import fault_agents
from tests.faults import TcpRelay, closed_port
from tests.prefect_artifacts import run_artifacts
from tests.regression_runs import regression
from trailcheck import cli, db
from trailcheck.db.spool import SpoolingWriter, flush_spool, pending_runs, spool_file
from trailcheck.models import CaseResult, CaseStatus, RunResult, Trajectory

pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.postgres]
N_CASES = 30
# In trailcheck's process, so the hooks the tests set in tests.fault_agents act mid-run.
AGENT = str(Path(__file__).with_name("fault_agents.yaml"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    fault_agents.reset()
    return tmp_path


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    cases = "".join(
        f"  - id: case-{i:02d}\n    turns: [order {i}]\n"
        "    expectations: {final_answer: {contains: [done]}}\n"
        for i in range(N_CASES)
    )
    path = tmp_path / "faults.yaml"
    path.write_text(f"name: faults\nversion: '1'\ncases:\n{cases}")
    return path


@pytest.fixture
def relay() -> Iterator[TcpRelay]:
    with TcpRelay(5432) as r:
        yield r


def through(relay: TcpRelay, postgres_url: str) -> str:
    return postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")


def stored_keys(postgres_url: str, run_id: str) -> list[tuple[str, int]]:
    """Every (case, trial) row of the run, duplicates included, read over a direct connection."""
    engine = create_engine(db.database_url(postgres_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT case_id, trial FROM case_results WHERE run_id = :r"), {"r": run_id}
            ).all()
            status = conn.execute(text("SELECT status FROM runs WHERE run_id = :r"), {"r": run_id}).scalar()
    finally:
        engine.dispose()
    assert status is not None
    return sorted((case_id, trial) for case_id, trial in rows)


def replay(suite: Path, url: str, run_id: str) -> RunResult:
    return regression(
        suite=str(suite), agent=AGENT, concurrency=1, shard_size=5, database_url=url, run_id=run_id
    )


def test_outage_until_the_end_is_spooled_then_flushed_once(
    home: Path, suite: Path, relay: TcpRelay, postgres_url: str
) -> None:
    url = through(relay, postgres_url)
    fault_agents.HOOKS[12] = relay.cut  # shards 0 and 1 land; the database dies during shard 2
    run = replay(suite, url, "outage-end")
    assert run.spool is not None and run.spool.pending, run.spool
    assert run.spool.spooled >= N_CASES - 10  # shard 2 onward, and the finished run
    assert "127.0.0.1" in run.spool.reason and "***" not in run.spool.path
    assert [c.status for c in run.cases] == [CaseStatus.PASSED] * N_CASES  # the verdict does not need the DB
    assert len(stored_keys(postgres_url, "outage-end")) == 10
    assert pending_runs(url) == ["outage-end"]

    relay.restore()
    assert flush_spool(url) > 0
    assert stored_keys(postgres_url, "outage-end") == [(f"case-{i:02d}", 0) for i in range(N_CASES)]
    stored = db.get_run(db.get_engine(url), "outage-end")
    assert stored is not None and len(stored.cases) == N_CASES
    assert stored.spool is not None and not stored.spool.pending  # flushed: nothing pending any more
    assert db.run_status(db.get_engine(url), "outage-end") is db.RunStatus.COMPLETED
    assert pending_runs(url) == [] and flush_spool(url) == 0  # flushing again writes nothing


def test_database_back_mid_run_flushes_during_the_run(
    home: Path, suite: Path, relay: TcpRelay, postgres_url: str
) -> None:
    url = through(relay, postgres_url)
    fault_agents.HOOKS[7] = relay.cut
    fault_agents.HOOKS[17] = relay.restore
    run = replay(suite, url, "outage-mid")
    assert run.spool is not None and not run.spool.pending and run.spool.spooled >= 5
    assert stored_keys(postgres_url, "outage-mid") == [(f"case-{i:02d}", 0) for i in range(N_CASES)]
    assert pending_runs(url) == []


def test_the_next_run_flushes_what_an_earlier_run_spooled(
    home: Path, suite: Path, relay: TcpRelay, postgres_url: str
) -> None:
    url = through(relay, postgres_url)
    fault_agents.HOOKS[3] = relay.cut
    first = replay(suite, url, "spooled-first")
    assert first.spool is not None and first.spool.pending
    relay.restore()
    second = replay(suite, url, "spooled-second")
    assert second.spool is None
    for run_id in ("spooled-first", "spooled-second"):
        keys = stored_keys(postgres_url, run_id)
        assert len(set(keys)) == len(keys) == N_CASES


def test_cli_and_artifact_say_the_run_spooled(
    home: Path, suite: Path, relay: TcpRelay, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = through(relay, postgres_url)
    monkeypatch.setattr(cli.out, "width", 200)
    fault_agents.HOOKS[2] = relay.cut
    report = home / "report.json"
    result = CliRunner().invoke(
        cli.app,
        ["run", str(suite), "--agent", AGENT, "--database-url", url, "--shard-size", "5",
         "--concurrency", "1", "--report-json", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output  # every case passed: the outage is reported, not a failure
    text = " ".join(result.output.split())
    assert "results database failed during the run" in text and "still in the local spool" in text
    recorded = json.loads(report.read_text())
    assert recorded["spool"]["pending"] is True
    summary = run_artifacts(recorded["flow_run_id"], "regression-faults-summary")
    assert any("results database failed during the run" in (a.data or "") for a in summary)
    relay.restore()
    listed = CliRunner().invoke(cli.app, ["spool", "list", "--database-url", url])
    assert "1 run(s) spooled" in listed.output
    flushed = CliRunner().invoke(cli.app, ["spool", "flush", "--database-url", url])
    assert flushed.exit_code == 0 and "written to the results database" in flushed.output
    assert pending_runs(url) == []


def test_database_down_from_the_start_spools_everything(home: Path, suite: Path) -> None:
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{closed_port()}/test"
    run = replay(suite, url, "never-up")
    assert run.spool is not None and run.spool.pending
    assert run.spool.spooled == N_CASES + 1  # every trial and the run's start
    assert "Connection refused" in run.spool.reason or "connect" in run.spool.reason.lower()
    spooled = spool_file(url, "never-up").read_text()
    assert "s3cret-pw" not in spooled + run.spool.reason + run.spool.path  # passwords never land in the spool
    assert "s3cret-pw" not in (spool_file(url, "never-up").parent / "database.txt").read_text()
    lines = spooled.splitlines()
    assert json.loads(lines[0])["op"] == "start_run" and json.loads(lines[-1])["op"] == "finish_run"


def test_a_line_cut_short_by_a_crash_is_set_aside(home: Path, postgres_url: str) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    writer = SpoolingWriter(url, "torn")
    from datetime import UTC, datetime

    run = RunResult(run_id="torn", suite="s", suite_version="1", agent_version="a", trials=1,
                    started_at=datetime.now(UTC))  # fmt: skip
    assert not writer.start_run(run)
    result = CaseResult(case_id="c", trial=0, trajectory=Trajectory(case_id="c"))
    assert not writer.record([result])
    path = writer.path
    path.write_bytes(path.read_bytes() + b'{"op": "case_results", "run_id": "to')  # killed mid-write
    # Re-point the same spool at a live database: the good records land, the torn line is kept aside.
    live = SpoolingWriter(postgres_url, "torn")
    live_path = live.path
    live_path.parent.mkdir(parents=True, exist_ok=True)
    live_path.write_bytes(path.read_bytes())
    assert flush_spool(postgres_url, "torn") == 2
    assert live_path.with_suffix(".rejected").read_bytes().startswith(b'{"op": "case_results"')
    assert stored_keys(postgres_url, "torn") == [("c", 0)]


def test_parallel_shards_spool_concurrently_and_flush_once(
    home: Path, tmp_path: Path, postgres_url: str
) -> None:
    """4 shards in flight spool into one file at once (flock); the flush writes every trial once."""
    from bench.fake_agent import create_app
    from bench.workload import write_suite
    from trailcheck.serving import serve_in_thread

    n = 300
    suite = write_suite(tmp_path / "many.yaml", n)
    with TcpRelay(5432) as relay, serve_in_thread(create_app(0.001)) as agent:
        url = through(relay, postgres_url)
        relay.cut()
        run = regression(suite=str(suite), agent=f"{agent}/chat", concurrency=64, shard_size=25,
                         database_url=url, run_id="parallel-spool")  # fmt: skip
        assert run.spool is not None and run.spool.pending and run.spool.spooled == n + 1
        assert len(run.shard_workers) == 1 and len(run.cases) == n
        relay.restore()
        assert flush_spool(url) >= 1 + n // 25 + 1  # start, one record or more per shard, finish
    keys = stored_keys(postgres_url, "parallel-spool")
    assert len(keys) == len(set(keys)) == n


def test_a_run_killed_while_spooling_resumes_once_the_database_is_back(
    home: Path, suite: Path, relay: TcpRelay, postgres_url: str
) -> None:
    """What a killed run left in the spool (its start, 12 trials) is written first, then only the rest run."""
    from datetime import UTC, datetime

    url = through(relay, postgres_url)
    relay.cut()
    writer = SpoolingWriter(url, "killed-spooling")
    run = RunResult(run_id="killed-spooling", suite="faults", suite_version="1", agent_version="steady",
                    trials=1, started_at=datetime.now(UTC))  # fmt: skip
    done = [
        CaseResult(
            case_id=f"case-{i:02d}", trial=0, trajectory=Trajectory(case_id=f"case-{i:02d}", final_answer="x")
        )
        for i in range(12)
    ]
    assert not writer.start_run(run) and not writer.record(done)
    relay.restore()
    result = CliRunner().invoke(
        cli.app, ["run", str(suite), "--agent", AGENT, "--database-url", url, "--resume", "killed-spooling"]
    )
    assert result.exit_code in (0, 1), result.output
    assert sorted(fault_agents.SEEN) == sorted(f"order {i}" for i in range(12, N_CASES))
    assert stored_keys(postgres_url, "killed-spooling") == [(f"case-{i:02d}", 0) for i in range(N_CASES)]
    assert pending_runs(url) == []


def test_no_baseline_comparison_fails_the_gate_instead_of_passing_unchecked(home: Path, suite: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    run = regression(suite=str(suite), agent=AGENT, database_url=url, baseline_version="steady-v1")
    assert all(c.status is CaseStatus.PASSED for c in run.cases)
    assert (
        run.comparison is not None and run.comparison.error and "Connection refused" in run.comparison.error
    )
    assert not run.ok  # a regression could not be ruled out
    from trailcheck.render.markdown import render_summary_markdown

    assert "## No comparison with baseline `steady-v1`" in render_summary_markdown(run)


def test_spools_on_another_machine_stay_pending_and_say_where() -> None:
    import socket

    from trailcheck.tasks.replay import ShardOutcome
    from trailcheck.tasks.run_setup import spool_summary

    here = ShardOutcome(
        index=0, worker=f"{socket.gethostname()}:1", summaries=[], spooled=2, spool_error="down"
    )
    there = ShardOutcome(index=1, worker="worker-7:42", summaries=[], spooled=3, spool_error="down")
    assert spool_summary([here], started=True) == (2, "down", [])
    spooled, error, elsewhere = spool_summary([here, there], started=False)
    assert (spooled, elsewhere) == (6, ["worker-7:42"]) and "trailcheck spool flush" in error
