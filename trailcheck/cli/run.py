"""`trailcheck run`: replay a suite against an agent, score it, compare it with a baseline."""

from pathlib import Path
from typing import Annotated

import typer

from trailcheck.cli._replay import (
    AgentPaths,
    check_agent,
    check_baseline,
    check_resume,
    gateway_or_fail,
    load_or_fail,
    probe_agent,
    redaction_or_fail,
    replay,
    report_or_fail,
    use_agent_path,
)
from trailcheck.cli._support import EXIT_FAILED, EXIT_OK, out
from trailcheck.cli.contracts import check_inventory
from trailcheck.render.console import print_run


def run(
    suite: Annotated[Path, typer.Argument(help="The suite YAML file.")],
    agent: Annotated[
        str,
        typer.Option(
            help="reference:v1 .. reference:v6 (v1 behaves well, v2-v6 each have a flaw), an http(s) URL, "
            "python:module:function, or an agent YAML file (kind http, command, openai or python)."
        ),
    ] = "reference:v1",
    agent_version: Annotated[
        str | None, typer.Option(help="Label the run is recorded under (model, prompt id).")
    ] = None,
    trials: Annotated[
        int, typer.Option(min=1, metavar="K", help="Runs per case; reliability is reported as pass^k.")
    ] = 1,
    concurrency: Annotated[int, typer.Option(min=1, metavar="N", help="Cases in flight at once.")] = 8,
    baseline: Annotated[
        str | None,
        typer.Option(
            metavar="LABEL",
            help="Compare with the last completed run recorded under this agent version label, or "
            "`last-accepted` for the last run that passed its gate. An unknown label is an error.",
        ),
    ] = None,
    shard_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Cases per Prefect task (default 50, or more for a large suite: about 4 shards per "
            "parallel shard).",
        ),
    ] = None,
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
    max_parallel_shards: Annotated[
        int, typer.Option(min=1, metavar="N", help="Shards in flight at once.")
    ] = 4,
    tools: Annotated[
        Path | None,
        typer.Option(
            help="Integration inventory (tools.yaml): check each tool response inline; its trusted / "
            "side_effects flags steer the injection checks."
        ),
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
            min=0,
            max=10,
            metavar="N",
            help="Retry trials whose agent could not be reached (default: agent file's).",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(help="Redact emails, card numbers and tokens from stored traces ($TRAILCHECK_REDACT)."),
    ] = True,
    redact_pattern: Annotated[
        list[str] | None, typer.Option(metavar="REGEX", help="Also redact this regex (repeatable).")
    ] = None,
    agent_path: AgentPaths = None,
) -> None:
    """Replay SUITE against an agent, score every trajectory, and compare with a baseline.

    Exit codes: 0 every case passed (and no regression against the baseline), 1 a case failed or
    errored, a regression was found, or Prefect or the results database could not be reached,
    2 bad input (suite, agent, baseline label, options; nothing ran).
    """
    use_agent_path(agent_path)
    loaded = load_or_fail(suite)
    check_agent(agent)
    if tools is not None:
        check_inventory(tools)
    settings = gateway_or_fail(gateway, gateway_port, agent, loaded)
    if resume:
        check_resume(resume, loaded, database_url)
    if baseline:
        check_baseline(baseline, loaded, database_url)
    redaction = redaction_or_fail(redact, redact_pattern or [])
    for report in (report_json, junit):
        if report is not None:
            report_or_fail(report)
    probe_agent(agent)  # last: bad input (exit 2) is said before an agent that is down (exit 1)
    result = replay(
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
        from trailcheck.render.junit import write_junit

        write_junit(result, junit)
        out.print(f"JUnit XML written to {junit}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)
