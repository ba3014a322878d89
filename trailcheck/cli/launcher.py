"""The `trailcheck` console script: hand the command to the warm runner, or run it here.

Importing Prefect, pydantic's models, SQLAlchemy and the agents takes a few seconds of CPU, more
than a run of a small suite itself. After a command has used the warm local Prefect server, a warm
runner (trailcheck/cli/warm_runner.py) keeps one process with all of that imported, and forks it
for each later command: the fork gets this process's arguments, environment, working directory,
stdin, stdout and stderr, and its exit code comes back here. Ctrl-C and SIGTERM are passed on.

Only the standard library is imported until the command runs here instead: when no runner serves
this state directory and interpreter, it refuses (trailcheck or a package changed since it started,
or PREFECT_* / PYTHON* variables differ from its own), or TRAILCHECK_WARM_RUNNER=off.
"""

import contextlib
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn

from trailcheck.cli import _runner_wire as wire
from trailcheck.cli._version import version_line
from trailcheck.home import home_for

CONNECT_TIMEOUT_S = 2.0
# A file the launcher appends each served command's CPU seconds and peak RSS to (bench/peers.py).
STATS_ENV = "TRAILCHECK_RUNNER_STATS"
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Commands whose flow runs against the warm server when no Prefect API is configured.
FLOW_COMMANDS = frozenset({"run", "demo", "sample", "faults", "long-session"})


def main() -> NoReturn:
    """Run the command line: in the warm runner when one serves, else in this process."""
    if sys.argv[1:] == ["--version"]:  # answered here: nothing to import, nothing to hand over
        print(version_line())
        sys.stdout.flush()
        os._exit(0)
    launch_env = dict(os.environ)
    try:
        cwd = os.getcwd()
    except OSError:  # a deleted working directory: the command will say what it cannot find
        _run_here(launch_env, None, start_runner=False)
    home = home_for(launch_env, cwd)
    outcome = "off"
    if wire.enabled(launch_env):
        outcome, code = _delegate(launch_env, cwd, home)
        if code is not None:
            sys.stdout.flush()
            os._exit(code)
    _run_here(launch_env, home, start_runner=outcome in ("absent", "stale"))


def _delegate(environ: dict[str, str], cwd: str, home: Path) -> tuple[str, int | None]:
    """Hand the command to the runner: ("served", exit code), or why not and None."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(wire.address(home, sys.executable))
    except OSError:
        sock.close()
        return "absent", None
    umask = os.umask(0o022)
    os.umask(umask)
    request = {"argv": sys.argv, "env": environ, "cwd": cwd, "path": sys.path, "umask": umask}
    try:
        wire.send_request(sock, request, [0, 1, 2])
        replies = sock.makefile("rb")
        first = json.loads(replies.readline() or b"{}")
    except (OSError, ValueError):
        sock.close()
        return "absent", None
    if "pid" not in first:
        sock.close()
        return str(first.get("refused", "absent")), None
    child = int(first["pid"])

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in _FORWARDED:
        signal.signal(signum, forward)
    sock.settimeout(None)
    try:
        for line in replies:
            message = json.loads(line)
            if "exit" in message:
                _record_usage(message, environ)
                return "served", int(message["exit"])
    except (OSError, ValueError):
        pass
    print(
        f"trailcheck: the command's process ({child}) ended without an exit status; "
        "set TRAILCHECK_WARM_RUNNER=off to run commands without the warm runner",
        file=sys.stderr,
    )
    return "served", 1


def _runs_a_flow_on_the_warm_server(environ: dict[str, str], home: Path | None) -> bool:
    """The command runs a flow, in a home whose warm server ran before, and no other API is named."""
    from trailcheck.prefect_server import SERVER_DIR

    argv = sys.argv[1:]
    if not argv or argv[0] not in FLOW_COMMANDS or "--help" in argv or "PREFECT_API_URL" in environ:
        return False
    return home is not None and (home / SERVER_DIR / "prefect.db").exists()


def _record_usage(message: dict[str, object], environ: dict[str, str]) -> None:
    """For benchmarks: what the command's process used, which `time` on the launcher cannot see."""
    path = environ.get(STATS_ENV)
    if path:
        usage = {"cpu_s": message.get("cpu_s"), "max_rss_mb": message.get("max_rss_mb")}
        with contextlib.suppress(OSError), open(path, "a", encoding="utf-8") as stats:
            stats.write(json.dumps(usage) + "\n")


def _run_here(launch_env: dict[str, str], home: Path | None, start_runner: bool) -> NoReturn:
    """Run the command here; then, if it used the warm server, start a runner for `home`."""
    from trailcheck.cli import _prefect

    if _runs_a_flow_on_the_warm_server(launch_env, home):
        _prefect.start_warm_server()
    from trailcheck.cli.commands import finish, run_app

    code = run_app()

    def start_for_next_commands() -> None:
        if start_runner and home is not None and _prefect.used_warm_server:
            from trailcheck.cli import runner_control

            runner_control.spawn(home, launch_env)

    finish(code, before_exit=start_for_next_commands)
