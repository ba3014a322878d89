"""SIGTERM and SIGINT end a run in bounded time; what it recorded is kept, and --resume finishes it.

The run is a real `trailcheck run` process (its own Prefect server), signalled from outside as a CI
runner or a container stop would.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.soak
N_CASES = 300


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_run_in_bounded_time_keeping_what_it_recorded(tmp_path: Path, signum: int) -> None:
    cases = "".join(f"  - id: c{i:03d}\n    turns: [order {i}]\n" for i in range(N_CASES))
    suite = tmp_path / "long.yaml"
    suite.write_text(f"name: long\nversion: '1'\ncases:\n{cases}")
    database = tmp_path / "results.db"
    env = {**os.environ, "TRAILCHECK_HOME": str(tmp_path), "TRAILCHECK_DATABASE_URL": f"sqlite:///{database}",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(Path.cwd())}  # fmt: skip
    agent = "python:tests.fault_agents:slow"
    command = [sys.executable, "-m", "trailcheck.cli", "run", str(suite), "--agent", agent,
               "--concurrency", "2", "--resume", "sig"]  # fmt: skip
    run = subprocess.Popen(command[:-2], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until trials are being written, then signal.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(1)
        if run.poll() is not None:  # e.g. its Prefect server did not start on a loaded machine
            pytest.fail(f"the run ended before it was signalled: {run.communicate()[1][-1500:]}")
        with contextlib.suppress(Exception):  # the file may not have its tables yet
            if database.exists() and stored_any(database):
                break
    run.send_signal(signum)
    signalled = time.monotonic()
    _out, err = run.communicate(timeout=60)
    took = time.monotonic() - signalled
    print(f"{signal.Signals(signum).name}: ended {took:.1f} s after the signal")  # for the report
    assert took < 30, took
    assert run.returncode == 130, (run.returncode, err[-2000:])
    assert "interrupted" in err and "--resume" in err
    run_id = err.split("--resume")[1].split()[0]
    recorded = count_for(database, run_id)
    assert 0 < recorded < N_CASES
    resumed = subprocess.run([*command[:-1], run_id], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert count_for(database, run_id) == N_CASES


def stored_any(database: Path) -> bool:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM case_results")).scalar_one())
    finally:
        engine.dispose()


def count_for(database: Path, run_id: str) -> int:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM case_results WHERE run_id = :r")
            return int(conn.execute(query, {"r": run_id}).scalar_one())
    finally:
        engine.dispose()
