"""What the commands that replay a suite share: validating their inputs, then running the regression flow."""

import contextlib
import os
import shutil
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from trailcheck.agents.config import CommandAgentConfig, GatewaySettings
from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.cli._support import err, fail, out
from trailcheck.loading.suite import SuiteError
from trailcheck.models import RunResult, Suite
from trailcheck.render.console import progress_bar
from trailcheck.resources import bundled_suite

# Exit code of a run ended by SIGTERM/SIGINT (the shell's 128 + SIGINT); --resume goes on with it.
EXIT_INTERRUPTED = 130
SHUTDOWN_GRACE_S = 15.0

BUNDLED_SUITE = bundled_suite()


def load_or_fail(suite: Path) -> Suite:
    try:
        return load_checked_suite(suite)
    except SuiteError as exc:
        raise fail(str(exc)) from None


# The `--agent-path` option of every command that imports a python: agent or custom checks.
AgentPaths = Annotated[
    list[Path] | None,
    typer.Option(
        metavar="DIR",
        help="Import the agent's (python:) and custom checks' modules from this folder too (repeatable).",
    ),
]


def use_agent_path(folders: list[Path] | None) -> None:
    """`--agent-path`: folders where the agent's and the custom checks' modules are imported from.

    Put on this process's import path (custom checks, in-process) and handed to the processes of
    `python:` agents through the environment, so both find the same modules.
    """
    from trailcheck.agents.lifecycle import AGENT_PATH_ENV

    if not folders:
        return
    resolved = [str(folder.resolve()) for folder in folders]
    for folder in resolved:
        if not Path(folder).is_dir():
            raise fail(f"--agent-path {folder}: not a folder")
    sys.path[:0] = [f for f in resolved if f not in sys.path]
    os.environ[AGENT_PATH_ENV] = os.pathsep.join([*resolved, *filter(None, [os.environ.get(AGENT_PATH_ENV)])])


def check_agent(agent: str) -> None:
    """Refuse an agent option that names nothing runnable, before any flow starts.

    A `python:` target's module is looked for with the interpreter and import path its process
    will have (its code does not run); a command agent's program must exist.
    """
    from trailcheck.agents.config import AgentConfigError, PythonAgentConfig, load_agent_config, missing_env
    from trailcheck.agents.lifecycle import check_python_target
    from trailcheck.agents.reference import VERSIONS

    if agent.startswith("reference:") and agent.split(":", 1)[1] not in VERSIONS:
        raise fail(
            f"unknown reference agent {agent!r}; known: {', '.join('reference:' + v for v in VERSIONS)}"
        )
    config = None
    if agent.endswith((".yaml", ".yml")):
        try:
            config = load_agent_config(agent)
        except AgentConfigError as exc:
            raise fail(str(exc)) from None
        unset = missing_env(config)
        if unset:
            raise fail(
                f"{agent}: environment variable(s) not set: {', '.join(unset)} (set them, or fix the file)"
            )
    elif agent.startswith("python:"):
        try:
            config = PythonAgentConfig(target=agent.removeprefix("python:"))
        except ValueError:
            raise fail(f"--agent {agent}: give python:package.module:function") from None
    elif not agent.startswith(("reference:", "http://", "https://")):
        raise fail(
            f"cannot tell what agent {agent!r} is: use reference:v1, an http(s):// URL, "
            "python:module:function or an agent YAML file"
        )
    if isinstance(config, PythonAgentConfig) and not config.in_process:
        problem = check_python_target(config.target, config.python, config.path)
        if problem:
            raise fail(problem)
    if isinstance(config, CommandAgentConfig):
        _check_program(agent, config)


def _check_program(agent: str, config: CommandAgentConfig) -> None:

    program = config.command[0]
    if "{" in program:
        return
    found = shutil.which(program) if "/" not in program else None
    local = Path(config.cwd or ".") / program
    if found is None and not (local.is_file() and os.access(local, os.X_OK)):
        raise fail(
            f"{agent}: command: program {program!r} not found (on PATH, or in {config.cwd}); "
            "fix: give its full path, or install it"
        )


def probe_agent(agent: str) -> None:
    """For an agent URL (given, or in an http agent file): refuse it if nothing listens there."""
    from trailcheck.agents.config import load_agent_config

    if agent.startswith(("http://", "https://")):
        probe_url(agent)
    elif agent.endswith((".yaml", ".yml")):
        config = load_agent_config(agent)
        if config.kind == "http":
            probe_url(config.url)


def probe_url(url: str, timeout_s: float = 5.0) -> None:
    """Refuse an agent URL nothing listens on, before a run records every case as errored for it.

    Only a TCP connection is tried: the endpoint is not sent a message, and an agent that accepts
    connections but then fails is judged by the run, case by case.
    """
    import socket
    import urllib.request
    from urllib.parse import urlsplit

    from trailcheck.cli._support import unavailable

    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(host):
        return  # reached through a proxy: a direct connection says nothing
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise unavailable(
            f"cannot reach the agent at {url}: {reason} ({host}:{port}); start it, or fix --agent"
        ) from None


def gateway_or_fail(value: str | None, port: int, agent: str, suite: Suite) -> GatewaySettings | None:
    from trailcheck.agents.targets import AgentSpecError, gateway_settings, refuse_without_gateway

    try:
        settings = gateway_settings(value, port)
        if any(case.faults or case.fixtures for case in suite.cases):
            refuse_without_gateway(agent, gateway=settings)
        return settings
    except AgentSpecError as exc:
        raise fail(str(exc)) from None


def check_resume(run_id: str, suite: Suite, database_url: str | None) -> None:
    """Refuse `--resume` of a run that is unknown, completed or of another suite, before any flow starts."""
    from trailcheck import db
    from trailcheck.db.spool import flush_spool
    from trailcheck.tasks.run_setup import ResumeError, resumable_run

    url = db.database_url(database_url)
    # A run spooled while the database was down is resumable once written; if the database is
    # still down, the check below says so.
    with contextlib.suppress(db.ResultsDatabaseError):
        flush_spool(url, run_id)
    try:
        resumable_run(url, run_id, suite.name)
    except (ResumeError, db.ResultsDatabaseError) as exc:
        raise fail(f"cannot resume: {exc}") from None


def check_baseline(baseline: str, suite: Suite, database_url: str | None) -> None:
    """Refuse a `--baseline` that names nothing to compare with, listing the labels that would work.

    Without this the run passes with `comparison: null` and the gate means nothing. A database that
    cannot be reached is left to the run (it spools, and says the comparison was impossible).
    """
    from trailcheck import db
    from trailcheck.tasks.record import LAST_ACCEPTED

    try:
        engine = db.get_engine(db.database_url(database_url))
        if baseline == LAST_ACCEPTED:
            found = db.latest_accepted_run(engine, suite.name) is not None
        else:
            found = db.latest_run(engine, suite.name, agent_version=baseline) is not None
        if found:
            return
        labels = db.baseline_labels(engine, suite.name)
    except db.ResultsDatabaseError:
        return
    known = f"known labels: {', '.join(labels)}" if labels else "no completed run of it yet"
    what = (
        "no run that passed its gate"
        if baseline == LAST_ACCEPTED
        else f"no completed run labelled {baseline!r}"
    )
    raise fail(
        f"--baseline {baseline}: suite {suite.name!r} has {what} in {db.mask_url(engine.url)} ({known}); "
        "run once without --baseline (or with --agent-version LABEL) first, or name a known label"
    )


def report_or_fail(path: Path) -> None:
    """Create a report's folder before the run, and refuse a path that cannot be a file."""
    if path.is_dir():
        raise fail(f"{path} is a directory; give the file to write, e.g. {path / 'report.json'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise fail(f"cannot create the folder of {path}: {exc.strerror}") from None


def redaction_or_fail(redact: bool, patterns: list[str]) -> object:
    """The run's RedactionConfig: the environment's, turned off by --no-redact, plus --redact-pattern."""
    from pydantic import ValidationError

    from trailcheck.redaction import RedactionConfig

    try:
        return RedactionConfig.from_env(patterns, enabled=None if redact else False)
    except ValidationError as exc:
        raise fail(f"redaction: {exc.errors()[0]['msg']}") from None


def replay(
    suite_path: Path,
    suite: Suite,
    agent: str,
    dask_address: str | None = None,
    resume: str | None = None,
    **params: object,
) -> RunResult:
    from trailcheck.analysis.verdict import VerdictFailedRun
    from trailcheck.cli._prefect import prefect_api, warm_up

    warm_up()  # the server boots (if it must) while the flow's modules import
    from trailcheck.flows.regression import regression
    from trailcheck.render.progress import listening
    from trailcheck.tasks.run_setup import shard_task_runner

    flow = (
        regression.with_options(task_runner=shard_task_runner(dask_address)) if dask_address else regression
    )
    if resume:
        params["resume"] = True
    run_id = resume or uuid.uuid4().hex[:12]
    total = len(suite.cases) * int(str(params["trials"]))
    title = f"{suite.name} on {params.get('agent_version') or agent}"
    with (
        stop_on_signal(run_id),
        prefect_api(),
        progress_bar(out, title, total) as advance,
        listening(run_id, advance),
        agent_started_or_fail(),
    ):
        # `params` are the flow's own keyword parameters, passed through from the command.
        try:
            return flow(suite=str(suite_path), agent=agent, run_id=run_id, **params)  # type: ignore[call-overload]
        except VerdictFailedRun as failed:  # the flow run ended Failed on its verdict; the exit code says so
            return failed.run


@contextmanager
def stop_on_signal(run_id: str, grace_s: float = SHUTDOWN_GRACE_S) -> Iterator[None]:
    """SIGTERM and SIGINT end the run in bounded time, keeping what it recorded.

    The first signal stops the shards from starting trials; they write (or spool) what they hold,
    and the command exits 130 saying how to resume. A second signal, or `grace_s` after the first,
    ends the process at once: trials already written every second are safe either way.
    """
    from trailcheck.tasks.replay import clear_stop, request_stop

    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        if received:
            os._exit(128 + signum)
        received.append(signum)
        request_stop()
        timer = threading.Timer(grace_s, os._exit, args=(128 + signum,))
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    clear_stop()
    try:
        yield
    except (KeyboardInterrupt, Exception) as exc:
        if not received and not isinstance(exc, KeyboardInterrupt):
            raise
        err.print(
            f"interrupted: the trials recorded so far are in the results database (or its spool); "
            f"go on with --resume {run_id}"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        for sig, old_handler in previous.items():
            signal.signal(sig, old_handler)


@contextlib.contextmanager
def agent_started_or_fail() -> Iterator[None]:
    """An agent process that did not come up is bad input (exit 2), said with what it printed."""
    from trailcheck.agents.lifecycle import AgentStartError

    try:
        yield
    except AgentStartError as exc:
        raise fail(str(exc)) from None
