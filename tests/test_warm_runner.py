"""The warm runner: after a command used the warm Prefect server, later commands run in a fork of a
process that has everything imported, and behave exactly as if they ran in the launcher.

Real processes throughout: the console script's launcher (`python -m trailcheck.cli`), a real
`prefect server start` and the runner it leaves behind, in a home of this module's own (no
PREFECT_API_URL, so none of it touches the session's `prefect_harness`).
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trailcheck import prefect_server
from trailcheck.cli import _runner_wire as wire
from trailcheck.cli import runner_control

pytestmark = pytest.mark.skipif(not wire.supported(), reason="the warm runner needs Linux (abstract sockets)")
SUITE = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"
ROOT = Path(__file__).resolve().parents[1]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "TRAILCHECK_WARM_RUNNER")}
    return {**env, "TRAILCHECK_HOME": str(home), "COLUMNS": "200", "PYTHONPATH": str(ROOT), **extra}


def _trailcheck(home: Path, *args: str, cwd: Path = ROOT, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trailcheck.cli", *args],
        env=_env(home, **extra),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _served(home: Path) -> int:
    state = runner_control.read_state(home)
    return state.served if state else -1


def _wait_serving(home: Path, timeout_s: float = 120) -> runner_control.RunnerState:
    deadline = time.monotonic() + timeout_s
    while (state := runner_control.status(home)) is None:
        assert time.monotonic() < deadline, (home / "runner" / "runner.log").read_text(errors="replace")
        time.sleep(0.2)
    return state


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home whose first run (in the launcher) used the warm server and so left a runner behind."""
    path = tmp_path_factory.mktemp("runner-home")
    try:
        first = _trailcheck(path, "run", str(SUITE), "--agent", "reference:v1")
        assert first.returncode == 0, first.stdout + first.stderr
        _wait_serving(path)
        yield path
    finally:
        runner_control.stop(path)
        prefect_server.stop(path)


def _without_ids(text: str) -> list[str]:
    return [line.split("run id")[0] for line in text.splitlines() if "━" not in line]


def test_a_run_served_by_the_runner_reads_as_one_run_in_the_launcher(home: Path) -> None:
    before = _served(home)
    served = _trailcheck(home, "run", str(SUITE), "--agent", "reference:v1")
    assert _served(home) == before + 1
    here = _trailcheck(home, "run", str(SUITE), "--agent", "reference:v1", TRAILCHECK_WARM_RUNNER="off")
    assert _served(home) == before + 1
    assert served.returncode == here.returncode == 0
    assert "PASS suite support-desk" in served.stdout
    assert _without_ids(served.stdout) == _without_ids(here.stdout)
    assert served.stderr == here.stderr == ""


def test_exit_codes_and_errors_come_back_from_the_runner(home: Path, tmp_path: Path) -> None:
    before = _served(home)
    failing = _trailcheck(home, "run", str(SUITE), "--agent", "reference:v2")
    assert failing.returncode == 1 and "FAIL suite support-desk" in failing.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncases: 3\n")
    refused = _trailcheck(home, "validate", str(bad))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert str(bad) in refused.stderr and refused.stderr.count("\n") >= 1
    assert _served(home) == before + 2


def test_the_command_gets_the_launchers_directory_environment_and_stdin(home: Path, tmp_path: Path) -> None:
    """A relative path resolves in the launcher's directory; COLUMNS narrows the output; stdin is read."""
    (tmp_path / "local.yaml").write_text(SUITE.read_text())
    before = _served(home)
    relative = _trailcheck(home, "validate", "local.yaml", cwd=tmp_path, COLUMNS="40")
    assert relative.returncode == 0, relative.stderr
    assert all(len(line) <= 40 for line in relative.stdout.splitlines())
    wide = _trailcheck(home, "validate", "local.yaml", cwd=tmp_path, COLUMNS="200")
    assert max(len(line) for line in wide.stdout.splitlines()) > 40
    assert _served(home) == before + 2


def test_other_prefect_settings_run_in_the_launcher(home: Path) -> None:
    before = _served(home)
    result = _trailcheck(home, "run", str(SUITE), "--agent", "reference:v1", PREFECT_LOGGING_LEVEL="ERROR")
    assert result.returncode == 0 and "PASS suite support-desk" in result.stdout
    assert _served(home) == before  # refused: the runner's Prefect was configured differently


def test_ctrl_c_reaches_the_command_through_the_launcher(home: Path, tmp_path: Path) -> None:
    cases = "".join(f"  - id: c{i:03d}\n    turns: [order {i}]\n" for i in range(300))
    suite = tmp_path / "long.yaml"
    suite.write_text(f"name: long\nversion: '1'\ncases:\n{cases}")
    database = tmp_path / "results.db"
    before = _served(home)
    agent = "python:tests.fault_agents:slow"
    run = subprocess.Popen(
        [sys.executable, "-m", "trailcheck.cli", "run", str(suite), "--agent", agent, "--concurrency", "2"],
        env=_env(home, TRAILCHECK_DATABASE_URL=f"sqlite:///{database}"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _served(home) == before or not database.exists():
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(2)
    run.send_signal(signal.SIGINT)
    _out, err = run.communicate(timeout=60)
    assert run.returncode == 130, err[-2000:]
    assert "interrupted" in err and "--resume" in err


def test_server_stop_stops_the_runner_too(tmp_path: Path) -> None:
    prefect_server.ensure(tmp_path)
    try:
        runner_control.spawn(tmp_path, _env(tmp_path))
        state = _wait_serving(tmp_path)
        stopped = _trailcheck(tmp_path, "server", "stop")
        assert stopped.returncode == 0 and f"warm runner stopped (pid {state.pid}," in stopped.stdout
        assert runner_control.status(tmp_path) is None
    finally:
        runner_control.stop(tmp_path)
        prefect_server.stop(tmp_path)


@pytest.mark.parametrize(
    ("argv", "environ", "ran_before", "expected"),
    [
        (["run", "suite.yaml"], {}, True, True),
        (["sample", "prod.jsonl"], {}, True, True),
        (["run", "suite.yaml"], {}, False, False),  # a first run: Prefect's configuration decides
        (["run", "suite.yaml"], {"PREFECT_API_URL": "http://team:4200/api"}, True, False),
        (["run", "--help"], {}, True, False),
        (["validate", "suite.yaml"], {}, True, False),
        ([], {}, True, False),
    ],
)
def test_the_server_boots_early_only_for_a_flow_in_a_home_that_ran_one(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    environ: dict[str, str],
    ran_before: bool,
    expected: bool,
) -> None:
    from trailcheck.cli.launcher import _runs_a_flow_on_the_warm_server

    if ran_before:
        (tmp_path / prefect_server.SERVER_DIR).mkdir()
        (tmp_path / prefect_server.SERVER_DIR / "prefect.db").write_bytes(b"")
    monkeypatch.setattr(sys, "argv", ["trailcheck", *argv])
    assert _runs_a_flow_on_the_warm_server(environ, tmp_path) is expected
