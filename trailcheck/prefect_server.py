"""A warm local Prefect server: started once under TRAILCHECK_HOME, reused by every later run.

Without ``PREFECT_API_URL`` Prefect would start a temporary server for every run (about ten
seconds on a small machine) and stop it at the end. Instead the first run starts one
``prefect server start`` in the background, in its own session so it outlives the run (and a
SIGKILLed run leaves nothing the next one does not find), and records it::

    $TRAILCHECK_HOME/prefect-server/
        state.json    pid, port, Prefect version and Python of the running server
        lock          held while a process checks, starts or stops the server
        prefect.db    the server's own database (flow runs, artifacts), kept across restarts
        server.log    its output

A later run reuses it when it answers ``/api/health`` and reports the installed Prefect version;
otherwise (dead, hung, another Prefect or Python) it is stopped and a new one started. Two runs
that start at once take the lock in turn, so only one server is ever started. A set
``PREFECT_API_URL`` (or a Prefect profile's) is always used instead: nothing here runs then.
"""

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.metadata import version as installed_version
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from trailcheck.home import trailcheck_home

SERVER_DIR = "prefect-server"
START_TIMEOUT_ENV = "TRAILCHECK_SERVER_START_TIMEOUT"
DEFAULT_START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
HEALTH_TIMEOUT_S = 2.0


class PrefectServerError(RuntimeError):
    """The warm server could not be started (the message names its log) or reached."""


class ServerState(BaseModel):
    """What state.json records about the running server."""

    model_config = ConfigDict(extra="forbid")

    pid: int
    port: int
    prefect_version: str
    python: str
    started_at: float

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def server_dir(home: Path | None = None) -> Path:
    path = (home or trailcheck_home()) / SERVER_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_timeout_s() -> float:
    raw = os.environ.get(START_TIMEOUT_ENV, "")
    try:
        return float(raw) if raw else DEFAULT_START_TIMEOUT_S
    except ValueError:
        return DEFAULT_START_TIMEOUT_S


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the directory's lock; the kernel releases it if the holder dies, so it never goes stale."""
    with (directory / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_state(directory: Path) -> ServerState | None:
    try:
        return ServerState.model_validate_json((directory / "state.json").read_bytes())
    except (OSError, ValidationError):
        return None


def _write_state(directory: Path, state: ServerState) -> None:
    tmp = directory / "state.json.tmp"
    tmp.write_text(state.model_dump_json())
    tmp.replace(directory / "state.json")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child, not yet reaped) counts as gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    return True


def _is_our_server(state: ServerState, directory: Path) -> bool:
    """True if the recorded pid is still the server this directory started (pids are reused)."""
    if not _pid_alive(state.pid):
        return False
    try:
        environ = Path(f"/proc/{state.pid}/environ").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pid, as a pid file does
    return f"TRAILCHECK_SERVER_DIR={directory}".encode() in environ.split(b"\0")


def healthy(state: ServerState) -> bool:
    """The server answers its health check and runs the Prefect version installed here."""
    try:
        with httpx.Client(timeout=HEALTH_TIMEOUT_S) as client:
            if client.get(f"{state.api_url}/health").status_code != 200:
                return False
            answer = client.get(f"{state.api_url}/admin/version")
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and answer.json() == state.prefect_version


def status(home: Path | None = None) -> ServerState | None:
    """The running, healthy warm server of this home, or None."""
    state = read_state(server_dir(home))
    return state if state is not None and healthy(state) else None


def running(home: Path | None = None) -> bool:
    """This home's warm server process is alive (no health check, nothing created: cheap to poll)."""
    directory = (home or trailcheck_home(create=False)) / SERVER_DIR
    state = read_state(directory) if directory.is_dir() else None
    return state is not None and _is_our_server(state, directory)


def _current(state: ServerState) -> bool:
    return state.prefect_version == installed_version("prefect") and state.python == sys.executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(directory: Path) -> ServerState:
    port = _free_port()
    env = {
        **os.environ,
        "TRAILCHECK_SERVER_DIR": str(directory),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{directory / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
    }
    env.pop("PREFECT_API_URL", None)
    with (directory / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=directory,
            start_new_session=True,  # its own session: a Ctrl-C or SIGKILL of the run leaves it serving
        )
    state = ServerState(
        pid=process.pid,
        port=port,
        prefect_version=installed_version("prefect"),
        python=sys.executable,
        started_at=time.time(),
    )
    _write_state(directory, state)
    return state


def _wait_healthy(state: ServerState, directory: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not healthy(state):
        if not _pid_alive(state.pid) or time.monotonic() > deadline:
            why = "exited" if not _pid_alive(state.pid) else f"did not answer within {timeout_s:g} s"
            _terminate(state.pid)
            (directory / "state.json").unlink(missing_ok=True)
            raise PrefectServerError(
                f"the local Prefect server {why}; its log is {directory / 'server.log'} "
                f"(raise ${START_TIMEOUT_ENV}, or set PREFECT_API_URL to a running server)"
            )
        time.sleep(0.1)


def _terminate(pid: int) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not gone in time."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while _pid_alive(pid) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if not _pid_alive(pid):
            return


def ensure(home: Path | None = None, timeout_s: float | None = None) -> ServerState:
    """The warm server of this home: reused when healthy and current, else (re)started and awaited.

    Raises PrefectServerError when a new server does not answer within `timeout_s`
    (default ``$TRAILCHECK_SERVER_START_TIMEOUT`` or 60 s).
    """
    directory = server_dir(home)
    with _locked(directory):
        state = read_state(directory)
        if state is not None and _current(state) and healthy(state):
            return state
        if state is not None and _current(state) and _is_our_server(state, directory):
            # Started by a run that died before it answered (or still booting): give it its time.
            with contextlib.suppress(PrefectServerError):
                _wait_healthy(state, directory, timeout_s or start_timeout_s())
                return state
        elif state is not None and _is_our_server(state, directory):
            _terminate(state.pid)  # another Prefect or Python, or hung: replaced
        state = _spawn(directory)
        _wait_healthy(state, directory, timeout_s or start_timeout_s())
        return state


def stop(home: Path | None = None) -> ServerState | None:
    """Stop this home's warm server; returns what was stopped (None if nothing ran)."""
    directory = server_dir(home)
    with _locked(directory):
        state = read_state(directory)
        if state is None:
            return None
        running = _is_our_server(state, directory)
        if running:
            _terminate(state.pid)
        (directory / "state.json").unlink(missing_ok=True)
        return state if running else None
