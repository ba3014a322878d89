"""A real PostgreSQL server frozen mid-run (SIGSTOP): the run ends in bounded time, everything spooled.

The test starts its own server (initdb into a temporary directory, another port, as the postgres
user when run as root): the shared server on 5432 is never stopped or frozen. Every process of the
instance is stopped, so connections stay open and the kernel still acknowledges every packet: no
TCP timeout can notice, only trailcheck's own deadline (`trailcheck.db.guard`).
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from sqlalchemy import create_engine, text

from tests import fault_agents
from tests.faults import closed_port, when
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.db.guard import reset_breakers
from trailcheck.db.spool import flush_spool, pending_runs

pytestmark = [pytest.mark.soak, pytest.mark.usefixtures("prefect_harness")]
N_CASES = 30


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or [shutil.which(name) or ""]
    if not found[-1]:
        pytest.skip(f"PostgreSQL's {name} is not installed")
    return found[-1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class OwnPostgres:
    """A throwaway PostgreSQL instance: start, freeze (SIGSTOP every process), thaw, stop."""

    def __init__(self, root: Path) -> None:
        self.data = root / "data"
        self.port = closed_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.frozen: list[psutil.Process] = []

    def start(self) -> None:
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)  # fmt: skip
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        start = [
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "log"),
            "-w",
            "start",
        ]
        subprocess.run(_as_postgres(start), check=True, capture_output=True)

    def processes(self) -> list[psutil.Process]:
        postmaster = psutil.Process(int((self.data / "postmaster.pid").read_text().split()[0]))
        return [postmaster, *postmaster.children(recursive=True)]

    def freeze(self) -> None:
        self.frozen = self.processes()
        for process in self.frozen:
            process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        for process in self.frozen:
            if process.is_running():
                process.send_signal(signal.SIGCONT)
        self.frozen = []

    def stop(self) -> None:
        self.thaw()
        subprocess.run(_as_postgres([_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True)  # fmt: skip


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="trailcheck-own-pg-"))
    server = OwnPostgres(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_sigstop_mid_run_ends_in_bounded_time_with_everything_spooled(
    own_postgres: OwnPostgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.setenv("TRAILCHECK_DB_TIMEOUT_S", "3")
    fault_agents.reset()
    reset_breakers()
    cases = "".join(f"  - id: case-{i:02d}\n    turns: [order {i}]\n" for i in range(N_CASES))
    suite = tmp_path / "frozen.yaml"
    suite.write_text(f"name: frozen\nversion: '1'\ncases:\n{cases}")
    url = own_postgres.url

    def landed() -> bool:
        engine = create_engine(db.database_url(url))
        try:
            with engine.connect() as conn:
                return bool(conn.execute(text("SELECT count(*) FROM case_results")).scalar_one() >= 10)
        finally:
            engine.dispose()

    when(landed, own_postgres.freeze)  # two shards land; the server stops during the third
    started = time.monotonic()
    run = regression(suite=str(suite), agent="python:tests.fault_agents:slow", concurrency=1, shard_size=5,
                     database_url=url, run_id="sigstopped")  # fmt: skip
    took = time.monotonic() - started
    print(f"frozen run: {took:.1f} s, spooled {run.spool.spooled if run.spool else 0}")  # for the report
    assert run.spool is not None and run.spool.pending, run.spool
    assert "no answer within 3 s" in run.spool.reason
    assert took < 60, took  # a deadline or two, not forever
    assert len(run.cases) == N_CASES
    own_postgres.thaw()
    reset_breakers()
    assert flush_spool(url) > 0
    engine = create_engine(db.database_url(url))
    try:
        with engine.connect() as conn:
            keys = (
                conn.execute(text("SELECT case_id FROM case_results WHERE run_id = 'sigstopped'"))
                .scalars()
                .all()
            )
            status = conn.execute(text("SELECT status FROM runs WHERE run_id = 'sigstopped'")).scalar()
    finally:
        engine.dispose()
    assert sorted(keys) == [f"case-{i:02d}" for i in range(N_CASES)]  # every trial once, none lost
    assert status == "completed" and pending_runs(url) == []
