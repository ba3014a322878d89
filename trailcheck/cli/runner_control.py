"""Start, find and stop the warm runner of a state directory (trailcheck/cli/warm_runner.py serves).

Kept apart from the runner itself, which imports every command: `trailcheck server` and the
launcher manage the runner without that.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from trailcheck.cli import _runner_wire as wire

STOP_TIMEOUT_S = 5.0


class RunnerState(BaseModel):
    """What runner.json records."""

    model_config = ConfigDict(extra="forbid")

    pid: int
    started_at: float
    python: str
    served: int = 0


def runner_dir(home: Path) -> Path:
    return home / wire.RUNNER_DIR


def read_state(home: Path) -> RunnerState | None:
    try:
        return RunnerState.model_validate_json((runner_dir(home) / wire.STATE_FILE).read_bytes())
    except (OSError, ValidationError):
        return None


def write_state(home: Path, state: RunnerState) -> None:
    path = runner_dir(home) / wire.STATE_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(state.model_dump_json())
    partial.replace(path)


def is_serving(home: Path, executable: str = sys.executable) -> bool:
    """A runner for `home` and `executable` accepts connections."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(wire.address(home, executable))
        except OSError:
            return False
        return True


def status(home: Path) -> RunnerState | None:
    """The runner serving `home`, or None."""
    state = read_state(home)
    return state if state is not None and is_serving(home, state.python) else None


def spawn(home: Path, environ: dict[str, str]) -> None:
    """Start a runner for `home` in the background (it exits at once if another one serves)."""
    if not wire.supported():
        return
    directory = runner_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "runner.log").open("ab") as log:
        subprocess.Popen(
            # -P: the runner's own sys.path must not start with its working directory.
            [sys.executable, "-P", "-m", "trailcheck.cli.warm_runner", str(home)],
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,
        )


def stop(home: Path) -> RunnerState | None:
    """Stop the runner of `home` (commands it is running finish); what was stopped, or None."""
    state = status(home)
    if state is None:
        return None
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while is_serving(home, state.python) and time.monotonic() < deadline:
        time.sleep(0.05)
    return state
