"""Start the user's agent as a process for a run, wait until it is up, and stop it afterwards.

An agent file of ``kind: command`` (and every ``python:`` target, through agents/python_host.py)
is run this way. The process:

- gets its own process group, so stopping it stops whatever it started (uvicorn workers, a shell);
- gets its port and where its tools are, in the environment (``TRAILCHECK_AGENT_PORT``,
  ``TRAILCHECK_TOOLS_URL``, ``TRAILCHECK_SESSION_HEADER``) and as ``{port}``, ``{tools_url}`` and
  ``{python}`` inside its command and extra environment;
- is up once its health URL answers 2xx; exiting first, or not answering within the start-up
  timeout, is an `AgentStartError` that carries the last lines it printed;
- prints into a bounded buffer (its last `output_bytes`), which the run keeps, redacted;
- is stopped when the block exits: at the end of the run, on Ctrl-C, on an exception, and at
  interpreter exit if the block never got to finish. SIGTERM first, SIGKILL after `stop_timeout_s`.
"""

import atexit
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

PORT_ENV = "TRAILCHECK_AGENT_PORT"
TOOLS_URL_ENV = "TRAILCHECK_TOOLS_URL"
SESSION_HEADER_ENV = "TRAILCHECK_SESSION_HEADER"
_POLL_S = 0.05
_TAIL_LINES = 15


class AgentStartError(RuntimeError):
    """The agent's process did not come up: it exited, or its health URL never answered in time."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to start one agent process; `{port}`, `{tools_url}`, `{python}` are filled in argv and env."""

    argv: list[str]
    health: str = "/health"
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = 0
    tools_url: str | None = None
    session_header: str = "X-Session-Id"
    startup_timeout_s: float = 30.0
    stop_timeout_s: float = 5.0
    output_bytes: int = 64 * 1024
    name: str = "agent"


class OutputTail:
    """The last `limit` bytes a process printed (stdout and stderr interleaved), read by a thread."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._data = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()

    def feed(self, stream: IO[bytes]) -> None:
        """Read `stream` to its end (run in a thread)."""
        for chunk in iter(lambda: stream.read1(4096), b""):  # type: ignore[attr-defined]
            with self._lock:
                self._data += chunk
                extra = len(self._data) - self.limit
                if extra > 0:
                    del self._data[:extra]
                    self._dropped += extra

    def text(self) -> str:
        """What was kept, with a first line saying how much was dropped before it."""
        with self._lock:
            kept = self._data.decode("utf-8", "replace")
            dropped = self._dropped
        return f"[... {dropped:,} earlier bytes dropped]\n{kept}" if dropped else kept

    def last_lines(self, count: int = _TAIL_LINES) -> str:
        lines = self.text().strip().splitlines()
        return "\n".join(lines[-count:])


@dataclass
class RunningAgentProcess:
    """A started agent: its base URL (``http://127.0.0.1:PORT``), process id and printed output."""

    base_url: str
    port: int
    pid: int
    output: OutputTail

    def url(self, path_or_url: str) -> str:
        return path_or_url if path_or_url.startswith(("http://", "https://")) else self.base_url + path_or_url


_running: dict[int, subprocess.Popen[bytes]] = {}


def free_port() -> int:
    """A port nothing listens on now (the agent binds it itself, so there is a short window)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with ``{port}``, ``{tools_url}``, ``{python}`` replaced (other braces are left alone)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@contextmanager
def run_agent_process(spec: ProcessSpec) -> Iterator[RunningAgentProcess]:
    """Start the process, wait for its health URL, yield it, and always stop its whole group."""
    port = spec.port or free_port()
    values = {"port": str(port), "tools_url": spec.tools_url or "", "python": sys.executable}
    env = {
        **os.environ,
        PORT_ENV: str(port),
        SESSION_HEADER_ENV: spec.session_header,
        **({TOOLS_URL_ENV: spec.tools_url} if spec.tools_url else {}),
        **{name: fill(value, values) for name, value in spec.env.items()},
    }
    argv = [fill(arg, values) for arg in spec.argv]
    if spec.cwd is not None and not Path(spec.cwd).is_dir():
        raise AgentStartError(f"{spec.name}: working folder {spec.cwd} does not exist")
    try:
        process = subprocess.Popen(
            argv,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped whole, and Ctrl-C reaches only us
        )
    except OSError as exc:
        raise AgentStartError(f"{spec.name}: cannot start {argv[0]!r}: {exc.strerror or exc}") from None
    _running[process.pid] = process
    output = OutputTail(spec.output_bytes)
    reader = threading.Thread(target=output.feed, args=(process.stdout,), daemon=True)
    reader.start()
    running = RunningAgentProcess(f"http://127.0.0.1:{port}", port, process.pid, output)
    try:
        _wait_until_up(process, running, spec, reader)
        yield running
    finally:
        stop(process, spec.stop_timeout_s)
        reader.join(timeout=1.0)


def _wait_until_up(
    process: subprocess.Popen[bytes],
    running: RunningAgentProcess,
    spec: ProcessSpec,
    reader: threading.Thread,
) -> None:
    health = running.url(fill(spec.health, {"port": str(running.port)}))
    deadline = time.monotonic() + spec.startup_timeout_s
    last = "no answer yet"
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            code = process.poll()
            if code is not None:
                reader.join(timeout=2.0)  # the last lines it printed (a child may hold the pipe open)
                said = running.output.last_lines(1)
                # The Python host's own verdict ("trailcheck: cannot import ...") leads the message.
                summary = f": {said.removeprefix('trailcheck: ')}" if said.startswith("trailcheck: ") else ""
                raise AgentStartError(
                    f"{spec.name} exited with code {code} before {health} answered{summary}"
                    + _printed(running.output)
                )
            try:
                answer = client.get(health)
                if answer.is_success:
                    return
                last = f"HTTP {answer.status_code}"
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            if time.monotonic() > deadline:
                raise AgentStartError(
                    f"{spec.name} did not answer {health} within {spec.startup_timeout_s:g}s (last: {last}); "
                    "raise startup_timeout_s, or check its port and health path" + _printed(running.output)
                )
            time.sleep(_POLL_S)


def _printed(output: OutputTail) -> str:
    tail = output.last_lines()
    return f"; it printed:\n{tail}" if tail else "; it printed nothing"


def stop(process: subprocess.Popen[bytes], timeout_s: float = 5.0) -> None:
    """SIGTERM to the process group, SIGKILL after `timeout_s`; idempotent."""
    _running.pop(process.pid, None)
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()
    # Children that outlived their leader (a shell's background job) go too.
    _signal_group(process.pid, signal.SIGKILL)
    if process.stdout is not None:
        process.stdout.close()


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@atexit.register
def _stop_leftovers() -> None:
    # A block that never finished (the interpreter is exiting from a thread, or a hard error).
    for process in list(_running.values()):
        stop(process, 2.0)


AGENT_PATH_ENV = "TRAILCHECK_AGENT_PATH"
HOST_FILE = Path(__file__).resolve().with_name("python_host.py")


def agent_path() -> list[str]:
    """Folders given with --agent-path (``$TRAILCHECK_AGENT_PATH``), where agents and custom checks live."""
    return [p for p in os.environ.get(AGENT_PATH_ENV, "").split(os.pathsep) if p]


def python_env(extra_path: list[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a `python:` target's process: its folders, --agent-path and the working folder
    on PYTHONPATH (as ``python -m`` would put the working folder), then the caller's PYTHONPATH."""
    folders = [*extra_path, *agent_path(), os.getcwd()]
    inherited = os.environ.get("PYTHONPATH")
    return {**(env or {}), "PYTHONPATH": os.pathsep.join(folders + ([inherited] if inherited else []))}


def check_python_target(target: str, python: str | None, extra_path: list[str]) -> str | None:
    """One line saying why `target`'s module cannot be found by `python`, or None (its code does not run)."""
    module = target.partition(":")[0]
    interpreter = python or sys.executable
    try:
        found = subprocess.run(
            [interpreter, str(HOST_FILE), target, "--check"],
            env={**os.environ, **python_env(extra_path)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"python agent {target!r}: cannot run the interpreter {interpreter!r}: {exc}"
    if found.returncode == 0:
        return None
    why = (found.stderr.strip().splitlines() or [f"exit code {found.returncode}"])[-1]
    why = why.removeprefix("trailcheck: ")
    return (
        f"python agent {target!r}: {why} (searched the working folder, --agent-path and PYTHONPATH"
        f"{' with ' + interpreter if python else ''}); fix: give --agent-path DIR (the folder that holds "
        f"{module.split('.')[0]}), set PYTHONPATH, or install it"
    )
