"""The warm runner: one process with trailcheck and its dependencies imported, forked per command.

Started in the background by the first command that uses the warm local Prefect server (see
trailcheck/cli/launcher.py), one per state directory and interpreter, in its own session. It
imports the CLI, the flows and Prefect's engines, freezes what it holds out of the garbage
collector's reach, and waits. For each request it forks: the child takes the launcher's
arguments, environment, working directory, ``sys.path``, umask and standard streams, reads the
terminal again, runs the command exactly as a fresh process would, and reports its exit code. A
child whose launcher goes away (killed) is sent SIGTERM, the same graceful stop as Ctrl-C.

It refuses (the launcher then runs the command itself) a request from another user, or whose
PREFECT_* or PYTHON* variables differ from its own; and it exits, after refusing, when a file of
trailcheck or the installed packages changed since it started. It also exits when the warm
Prefect server of its state directory is gone (`trailcheck server stop` stops both) or after
``$TRAILCHECK_RUNNER_IDLE_S`` (default 1800) seconds without a command.

    $TRAILCHECK_HOME/runner/runner.json   pid, start time, interpreter and commands served
    $TRAILCHECK_HOME/runner/runner.log    its own output (the commands' goes to their terminal)

``python -m trailcheck.cli.warm_runner HOME`` runs one in the foreground.
"""

import contextlib
import gc
import os
import resource
import signal
import socket
import struct
import sys
import sysconfig
import threading
import time
from pathlib import Path
from typing import NoReturn

from trailcheck import prefect_server
from trailcheck.cli import _runner_wire as wire
from trailcheck.cli import runner_control

IDLE_ENV = "TRAILCHECK_RUNNER_IDLE_S"
DEFAULT_IDLE_S = 1800.0
CHECK_EVERY_S = 2.0
REQUEST_TIMEOUT_S = 5.0


def fingerprint() -> tuple[int, int, int]:
    """Changes when a file of trailcheck (its symlinked folders included) or the installed set does."""
    import trailcheck

    newest, count = 0, 0
    for root, dirs, files in os.walk(Path(trailcheck.__file__).parent, followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__" and not d.startswith(".")]
        for name in files:
            if name.endswith((".py", ".json", ".yaml", ".yml")):
                with contextlib.suppress(OSError):
                    newest = max(newest, os.stat(os.path.join(root, name)).st_mtime_ns)
                    count += 1
    packages = os.stat(sysconfig.get_paths()["purelib"]).st_mtime_ns
    return newest, count, packages


def _preload() -> None:
    """Import what commands use, the CLI's support module first (it sets Prefect's log level)."""
    import trailcheck.cli._support  # noqa: I001
    import prefect.flow_engine
    import prefect.task_engine  # noqa: F401
    from prefect.client.orchestration import get_client  # noqa: F401

    import trailcheck.cli.commands
    import trailcheck.flows.contracts
    import trailcheck.flows.live_sampling
    import trailcheck.flows.regression
    import trailcheck.render.html_report  # noqa: F401

    _draw_a_chart()


def _draw_a_chart() -> None:
    """plotly builds its validators and templates on first use: pay that here, once."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figure = make_subplots(rows=1, cols=2)
    figure.add_trace(go.Scatter(x=[1, 2], y=[1, 2], mode="lines+markers"), row=1, col=1)
    figure.add_trace(go.Bar(x=["a"], y=[1]), row=1, col=2)
    figure.add_trace(go.Heatmap(z=[[1]]), row=1, col=1)
    figure.update_layout(template="plotly_white")
    figure.to_html(full_html=False, include_plotlyjs=False)


def _peer_uid(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def serve(home: Path) -> None:
    """Serve commands for `home` until idle, stale, told to stop, or its Prefect server is gone."""
    own_pinned = wire.pinned(dict(os.environ))  # before importing anything sets Prefect defaults
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(wire.address(home, sys.executable))
    except OSError:
        return  # another runner serves this home already
    _preload()
    started = fingerprint()
    state = runner_control.RunnerState(pid=os.getpid(), started_at=time.time(), python=sys.executable)
    runner_control.runner_dir(home).mkdir(parents=True, exist_ok=True)
    runner_control.write_state(home, state)
    idle_s = float(os.environ.get(IDLE_ENV) or DEFAULT_IDLE_S)
    gc.collect()
    gc.freeze()  # what the runner imported stays out of every child's collections
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener.listen(64)
    listener.settimeout(CHECK_EVERY_S)
    last = time.monotonic()
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            if time.monotonic() - last > idle_s or not prefect_server.running(home):
                break
            continue
        with conn:
            outcome = _answer(listener, conn, own_pinned, started)
        if outcome == "stale":
            break
        if outcome == "forked":
            state.served += 1
            runner_control.write_state(home, state)
            last = time.monotonic()
    listener.close()
    if (current := runner_control.read_state(home)) is not None and current.pid == os.getpid():
        (runner_control.runner_dir(home) / wire.STATE_FILE).unlink(missing_ok=True)


def _answer(
    listener: socket.socket, conn: socket.socket, own_pinned: dict[str, str], started: tuple[int, int, int]
) -> str:
    """Fork a child for the request on `conn`, or refuse it: "forked", "refused", "stale" or "ignored"."""
    if _peer_uid(conn) != os.getuid():
        return "ignored"
    conn.settimeout(REQUEST_TIMEOUT_S)
    try:
        request, fds = wire.receive_request(conn)
    except (OSError, ValueError):
        return "ignored"
    refusal = None
    if fingerprint() != started:
        refusal = "stale"
    elif len(fds) != 3 or wire.pinned(_environment(request)) != own_pinned:
        refusal = "environment"
    if refusal is None and os.fork() == 0:
        listener.close()
        _run_child(conn, request, fds)
    for fd in fds:
        os.close(fd)
    if refusal is None:
        return "forked"
    with contextlib.suppress(OSError):
        wire.send_line(conn, {"refused": refusal})
    return "stale" if refusal == "stale" else "refused"


def _environment(request: dict[str, object]) -> dict[str, str]:
    raw = request.get("env")
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _run_child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> NoReturn:
    """In the forked child: become the launcher's process, run its command, report the exit code."""
    code = 1
    finished = threading.Event()
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(str(request["cwd"]))
        os.environ.clear()
        os.environ.update(_environment(request))
        sys.argv = list(request["argv"])  # type: ignore[call-overload]
        sys.path[:] = list(request["path"])  # type: ignore[call-overload]
        os.umask(int(request["umask"]))  # type: ignore[call-overload]
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(AttributeError, OSError, ValueError):
                stream.reconfigure(line_buffering=stream.isatty())  # type: ignore[union-attr]

        import prefect.context

        from trailcheck.cli._support import adopt_new_terminal
        from trailcheck.cli.commands import run_app

        adopt_new_terminal()
        prefect.context.refresh_global_settings_context()
        conn.settimeout(None)
        wire.send_line(conn, {"pid": os.getpid()})

        def stop_when_launcher_goes() -> None:
            with contextlib.suppress(OSError):
                conn.recv(1)
            if not finished.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=stop_when_launcher_goes, name="trailcheck-launcher", daemon=True).start()
        code = run_app()
        import atexit

        atexit._run_exitfuncs()
    except BaseException as exc:
        with contextlib.suppress(Exception):
            print(f"trailcheck: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        finished.set()
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            wire.send_line(conn, {"exit": code, **_usage()})
        os._exit(code)


def _usage() -> dict[str, object]:
    """CPU and peak memory of this child and the processes it waited for (its agent, its tools)."""
    own, waited = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime
    return {"cpu_s": round(cpu_s, 3), "max_rss_mb": round(max(own.ru_maxrss, waited.ru_maxrss) / 1024, 1)}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m trailcheck.cli.warm_runner TRAILCHECK_HOME")
    serve(Path(sys.argv[1]))
