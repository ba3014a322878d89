"""The `trailcheck` command line.

Exit codes: 0 everything passed, 1 a case failed or errored or a regression was found,
2 bad input or usage (a suite or agent that cannot be used; nothing ran).
"""

import contextlib
import json
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated

# Quiet Prefect's console logging before it is imported: the CLI prints its own progress.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

import typer
from rich.console import Console

from agents.config import GatewaySettings
from trailcheck.commands import spool as spool_commands
from trailcheck.commands.contracts import check_inventory, contracts_app
from trailcheck.commands.faults import faults as faults_command
from trailcheck.commands.long_session import long_session as long_session_command
from trailcheck.commands.notify_change import notify_change
from trailcheck.commands.perturb import perturb as perturb_command
from trailcheck.commands.score import score
from trailcheck.console import print_run, progress_bar
from trailcheck.models import RunResult, Suite
from trailcheck.suite_loader import SuiteError, load_suite

# Prefect's event client warns at exit while it flushes its queue; it is not the user's concern.
logging.getLogger("EventsWorker").setLevel(logging.ERROR)


class _EventsShutdownRace(logging.Filter):
    """Drop the error Prefect logs when a flow's last heartbeat races its event worker's shutdown.

    The ephemeral server's run has finished and been recorded by then; only that one race is
    hidden, any other event error still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, RuntimeError) and "stopped service instance" in str(exc))


logging.getLogger("prefect.events.utilities").addFilter(_EventsShutdownRace())

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
BUNDLED_SUITE = Path(__file__).resolve().parent.parent / "suites" / "support-desk.yaml"

app = typer.Typer(
    name="trailcheck",
    help="Continuous testing for AI agents: replay suites, score whole trajectories, catch regressions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
reference_app = typer.Typer(help="The bundled reference support-desk agent.", no_args_is_help=True)
app.add_typer(reference_app, name="reference")
app.command(name="score")(score)
app.command(name="perturb")(perturb_command)
app.command(name="long-session")(long_session_command)
app.add_typer(contracts_app, name="contracts")
app.command(name="faults")(faults_command)
app.command(name="notify-change")(notify_change)
app.add_typer(spool_commands.app, name="spool")
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _load(suite: Path) -> Suite:
    try:
        return load_suite(suite)
    except SuiteError as exc:
        raise _fail(str(exc)) from None


def _check_agent(agent: str) -> None:
    """Refuse an agent option that names nothing runnable, before any flow starts."""
    from agents.config import AgentConfigError, load_agent_config, missing_env
    from agents.reference import VERSIONS

    if agent.startswith("reference:") and agent.split(":", 1)[1] not in VERSIONS:
        raise _fail(
            f"unknown reference agent {agent!r}; known: {', '.join('reference:' + v for v in VERSIONS)}"
        )
    if agent.endswith((".yaml", ".yml")):
        try:
            config = load_agent_config(agent)
        except AgentConfigError as exc:
            raise _fail(str(exc)) from None
        unset = missing_env(config)
        if unset:
            raise _fail(
                f"{agent}: environment variable(s) not set: {', '.join(unset)} (set them, or fix the file)"
            )
    elif not agent.startswith(("reference:", "http://", "https://", "python:")):
        raise _fail(
            f"cannot tell what agent {agent!r} is: use reference:v1, an http(s):// URL, "
            "python:module:function or an agent YAML file"
        )


def _gateway(value: str | None, port: int, agent: str, suite: Suite) -> GatewaySettings | None:
    from agents.targets import AgentSpecError, gateway_settings, refuse_without_gateway

    try:
        settings = gateway_settings(value, port)
        if any(case.faults or case.fixtures for case in suite.cases):
            refuse_without_gateway(agent, gateway=settings)
        return settings
    except AgentSpecError as exc:
        raise _fail(str(exc)) from None


def _check_resume(run_id: str, suite: Suite, database_url: str | None) -> None:
    """Refuse `--resume` of a run that is unknown, completed or of another suite, before any flow starts."""
    from flows.regression import ResumeError, resumable_run
    from trailcheck import db
    from trailcheck.db.spool import flush_spool

    url = db.database_url(database_url)
    # A run spooled while the database was down is resumable once written; if the database is
    # still down, the check below says so.
    with contextlib.suppress(db.ResultsDatabaseError):
        flush_spool(url, run_id)
    try:
        resumable_run(url, run_id, suite.name)
    except (ResumeError, db.ResultsDatabaseError) as exc:
        raise _fail(f"cannot resume: {exc}") from None


def _redaction(redact: bool, patterns: list[str]) -> object:
    """The run's RedactionConfig: the environment's, turned off by --no-redact, plus --redact-pattern."""
    from pydantic import ValidationError

    from trailcheck.redaction import RedactionConfig

    try:
        return RedactionConfig.from_env(patterns, enabled=None if redact else False)
    except ValidationError as exc:
        raise _fail(f"redaction: {exc.errors()[0]['msg']}") from None


def _replay(
    suite_path: Path,
    suite: Suite,
    agent: str,
    dask_address: str | None = None,
    resume: str | None = None,
    **params: object,
) -> RunResult:
    from flows.regression import regression, shard_task_runner
    from trailcheck.progress import listening

    flow = (
        regression.with_options(task_runner=shard_task_runner(dask_address)) if dask_address else regression
    )
    if resume:
        params["resume"] = True
    run_id = resume or uuid.uuid4().hex[:12]
    total = len(suite.cases) * int(params["trials"])  # type: ignore[call-overload]
    title = f"{suite.name} on {params.get('agent_version') or agent}"
    with progress_bar(out, title, total) as advance, listening(run_id, advance):
        return flow(suite=str(suite_path), agent=agent, run_id=run_id, **params)  # type: ignore[arg-type]


@app.command()
def run(
    suite: Annotated[Path, typer.Argument(help="The suite YAML file.")],
    agent: Annotated[
        str,
        typer.Option(help="reference:v1|v2, an http(s) URL, python:module:function, or an agent YAML file."),
    ] = "reference:v1",
    agent_version: Annotated[
        str | None, typer.Option(help="Label the run is recorded under (model, prompt id).")
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Runs per case; reliability is reported as pass^k.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, help="Cases in flight at once.")] = 8,
    baseline: Annotated[
        str | None, typer.Option(help="Compare with the last run on this agent version.")
    ] = None,
    shard_size: Annotated[int, typer.Option(min=1, help="Cases per Prefect task.")] = 50,
    database_url: Annotated[
        str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL or SQLite).")
    ] = None,
    report_json: Annotated[Path | None, typer.Option(help="Also write the run result as JSON here.")] = None,
    junit: Annotated[
        Path | None, typer.Option(help="Also write JUnit XML here (a testcase per case).")
    ] = None,
    dask_address: Annotated[
        str | None, typer.Option(help="Run shards on this Dask scheduler (default $TRAILCHECK_DASK_ADDRESS).")
    ] = None,
    max_parallel_shards: Annotated[int, typer.Option(min=1, help="Shards in flight at once.")] = 4,
    tools: Annotated[
        Path | None, typer.Option(help="Integration inventory (tools.yaml): check each tool response inline.")
    ] = None,
    gateway: Annotated[
        str | None,
        typer.Option(help="Put a tool gateway before the agent's tools: `on`, or the tools' base URL."),
    ] = None,
    gateway_port: Annotated[
        int, typer.Option(help="Port of the gateway (your agent calls its tools there).")
    ] = 0,
    resume: Annotated[
        str | None,
        typer.Option(metavar="RUN_ID", help="Go on with a run that was killed: only its missing trials run."),
    ] = None,
    retries: Annotated[
        int | None,
        typer.Option(
            min=0, max=10, help="Retry trials whose agent could not be reached (default: agent file's)."
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(help="Redact emails, card numbers and tokens from stored traces ($TRAILCHECK_REDACT)."),
    ] = True,
    redact_pattern: Annotated[
        list[str] | None, typer.Option(metavar="REGEX", help="Also redact this regex (repeatable).")
    ] = None,
) -> None:
    """Replay SUITE against an agent, score every trajectory, and compare with a baseline."""
    loaded = _load(suite)
    _check_agent(agent)
    if tools is not None:
        check_inventory(tools)
    settings = _gateway(gateway, gateway_port, agent, loaded)
    if resume:
        _check_resume(resume, loaded, database_url)
    redaction = _redaction(redact, redact_pattern or [])
    result = _replay(
        suite,
        loaded,
        agent,
        agent_version=agent_version,
        trials=trials,
        concurrency=concurrency,
        baseline_version=baseline,
        shard_size=shard_size,
        database_url=database_url,
        dask_address=dask_address,
        max_parallel_shards=max_parallel_shards,
        tools=str(tools) if tools else None,
        gateway=settings,
        resume=resume,
        redaction=redaction,
        retries=retries,
    )
    print_run(out, result)
    if report_json is not None:
        report_json.write_text(result.model_dump_json(indent=2))
        out.print(f"report written to {report_json}")
    if junit is not None:
        from trailcheck.junit import write_junit

        write_junit(result, junit)
        out.print(f"JUnit XML written to {junit}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)


@app.command()
def validate(suites: Annotated[list[Path], typer.Argument(help="Suite YAML files.")]) -> None:
    """Check suite files without running them; every problem is listed with file, line, case and field."""
    bad = 0
    for path in suites:
        try:
            suite = load_suite(path)
        except SuiteError as exc:
            bad += 1
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            continue
        out.print(f"ok: {path} ({suite.name} v{suite.version}, {len(suite.cases)} cases)", highlight=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of suite files (for editors and CI linters)."""
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **Suite.model_json_schema()}
    text = json.dumps(document, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n")


@app.command()
def demo(
    database_url: Annotated[str | None, typer.Option(help="Results DB URL (default SQLite).")] = None,
) -> None:
    """Replay the bundled suite against reference v1, then v2, and show the regressions v2 brings."""
    suite = _load(BUNDLED_SUITE)
    common = {"trials": 1, "concurrency": 8, "shard_size": 50, "database_url": database_url}
    out.rule("1/2  the good agent: reference v1")
    first = _replay(
        BUNDLED_SUITE, suite, "reference:v1", agent_version="reference-v1", baseline_version=None, **common
    )
    print_run(out, first)
    out.rule("2/2  a new version: reference v2, compared with v1")
    second = _replay(
        BUNDLED_SUITE,
        suite,
        "reference:v2",
        agent_version="reference-v2",
        baseline_version="reference-v1",
        **common,
    )
    print_run(out, second)
    found = len(second.comparison.regressions) if second.comparison else 0
    out.print(f"\nThe demo found {found} regression(s) in v2. Both runs are in the results database.")


@reference_app.command("serve")
def reference_serve(
    version: Annotated[
        str, typer.Option(help="Agent version (v1 behaves well; v2-v6 each have a flaw).")
    ] = "v1",
) -> None:
    """Serve the reference agent on 127.0.0.1 until interrupted; prints its URL."""
    import time

    from agents.reference import VERSIONS, serve_reference

    if version not in VERSIONS:
        raise _fail(f"unknown version {version!r}; known: {', '.join(VERSIONS)}")
    with serve_reference(version) as ref:
        out.print(f"reference agent {version}: {ref.agent_url}  (tools: {ref.tools_url}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


# Live sampling (trailcheck/commands/live.py).
from trailcheck.commands import live as _live  # noqa: E402

app.command(name="sample")(_live.sample)
app.command(name="promote")(_live.promote)
app.command(name="generate-traces")(_live.generate_traces)


if __name__ == "__main__":
    app()
