"""The warm local Prefect server: one per TRAILCHECK_HOME, shared by runs, found again after a SIGKILL.

Every test here starts real `prefect server start` processes in a home of its own and stops them at
the end; none touches the session's `prefect_harness` (they run trailcheck in subprocesses without
PREFECT_API_URL).
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from trailcheck import prefect_server

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
ENSURE = "from trailcheck import prefect_server as p; print(p.ensure().model_dump_json())"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    return {**env, "TRAILCHECK_HOME": str(home), "COLUMNS": "200", **extra}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists() or stat.read_text().split(") ", 1)[1][:1] != "Z"


def _servers_of(home: Path) -> list[int]:
    """Processes started as this home's server (found by the marker in their environment)."""
    marker = f"TRAILCHECK_SERVER_DIR={home / prefect_server.SERVER_DIR}".encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0") and _alive(int(proc.name)):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, prefect_server.ServerState]]:
    """A server whose starter was SIGKILLed midway, then claimed by two processes at once."""
    home = tmp_path_factory.mktemp("home")
    state_file = home / prefect_server.SERVER_DIR / "state.json"
    starter = subprocess.Popen([sys.executable, "-c", ENSURE], env=_env(home), stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not state_file.exists():
        assert time.monotonic() < deadline and starter.poll() is None
        time.sleep(0.05)
    starter.send_signal(signal.SIGKILL)
    starter.wait()
    orphan = prefect_server.ServerState.model_validate_json(state_file.read_text())
    claimants = [
        subprocess.Popen([sys.executable, "-c", ENSURE], env=_env(home), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        states = [
            prefect_server.ServerState.model_validate_json(c.communicate(timeout=180)[0]) for c in claimants
        ]
        assert {s.pid for s in states} == {orphan.pid}, "the orphaned server is reused, no second one starts"
        assert _servers_of(home) == [orphan.pid]
        yield home, states[0]
    finally:
        for claimant in claimants:
            claimant.kill()
        prefect_server.stop(home)


def test_an_orphaned_server_is_reused_by_concurrent_runs(
    warm: tuple[Path, prefect_server.ServerState],
) -> None:
    home, state = warm
    assert prefect_server.status(home) == state
    assert httpx.get(f"{state.api_url}/admin/version").json() == state.prefect_version
    again = prefect_server.ensure(home)
    assert again == state


def test_runs_use_the_warm_server_and_leave_it_running(warm: tuple[Path, prefect_server.ServerState]) -> None:
    home, state = warm
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "trailcheck.cli", "run", SUITE, "--agent", "reference:v1"],
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "PASS suite support-desk" in result.stdout
    assert _alive(state.pid) and prefect_server.status(home) == state
    runs = httpx.post(f"{state.api_url}/flow_runs/filter", json={}).json()
    assert sum(run["state_type"] == "COMPLETED" for run in runs) >= 2  # both runs went to this server
    status = subprocess.run(
        [sys.executable, "-m", "trailcheck.cli", "server", "status"],
        env=_env(home),
        capture_output=True,
        text=True,
    )
    assert status.returncode == 0 and state.api_url in status.stdout


def test_a_stale_server_is_replaced(tmp_path: Path) -> None:
    """Another Prefect version recorded (an upgrade since): the old server is stopped, a new one starts."""
    first = prefect_server.ensure(tmp_path)
    try:
        state_file = tmp_path / prefect_server.SERVER_DIR / "state.json"
        stale = json.loads(state_file.read_text()) | {"prefect_version": "0.0.1"}
        state_file.write_text(json.dumps(stale))
        second = prefect_server.ensure(tmp_path)
        assert second.pid != first.pid and not _alive(first.pid)
        assert prefect_server.status(tmp_path) == second
    finally:
        prefect_server.stop(tmp_path)
    assert prefect_server.status(tmp_path) is None and not _alive(second.pid)
    status = subprocess.run(
        [sys.executable, "-m", "trailcheck.cli", "server", "status"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert status.returncode == 1 and "no Prefect server running" in status.stdout


def test_a_start_up_timeout_is_one_line_and_leaves_nothing_behind(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trailcheck.cli", "run", SUITE],
        env=_env(tmp_path, TRAILCHECK_SERVER_START_TIMEOUT="0.5"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    error = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "did not answer within 0.5 s" in error[0] and "server.log" in error[0]
    assert prefect_server.read_state(tmp_path / prefect_server.SERVER_DIR) is None
    assert _servers_of(tmp_path) == []


def test_a_set_prefect_api_url_that_does_not_answer_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trailcheck.cli", "run", SUITE],
        env=_env(tmp_path, PREFECT_API_URL="http://127.0.0.1:1/api"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "the Prefect API at http://127.0.0.1:1/api (PREFECT_API_URL) does not answer" in result.stderr
    assert not (tmp_path / prefect_server.SERVER_DIR / "state.json").exists()
