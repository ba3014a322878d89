"""`trailcheck faults SUITE`: replay a suite under every tool fault and report pass rates per tool x fault.

1. A clean replay of each case through the tool gateway finds the tools it calls.
2. The suite is expanded into the fault matrix (agents/fault_matrix.py) and written to
   ``$TRAILCHECK_HOME/faults/<suite>-faults.yaml`` (reviewable, re-runnable with `trailcheck run`).
3. The matrix suite is replayed through the `regression` flow (results DB, artifacts, pass^k).
4. The table shows each tool x fault kind: passed trials over trials; failing cases are listed.

Exit codes as `run`: 0 every cell passed, 1 a cell failed (or a clean replay errored), 2 bad input.
"""

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from trailcheck.agents.config import GatewaySettings
from trailcheck.cli._replay import AgentPaths
from trailcheck.cli._support import EXIT_FAILED, EXIT_OK, err, fail, out
from trailcheck.models import FaultKind, FaultMatrix
from trailcheck.render.terminal import escape


def parse_kinds(value: str | None) -> list[FaultKind]:
    """`--kinds http_500,timeout` (all kinds when absent); ValueError naming the known kinds."""
    if not value:
        return list(FaultKind)
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [n for n in names if n not in FaultKind._value2member_map_]
    if unknown:
        raise ValueError(
            f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(k.value for k in FaultKind)}"
        )
    return [FaultKind(n) for n in dict.fromkeys(names)]


def faults(
    suite: Annotated[Path, typer.Argument(help="The suite YAML file.")],
    agent: Annotated[
        str, typer.Option(help="reference:vN, an http(s) URL, python:module:function, or an agent YAML file.")
    ] = "reference:v1",
    agent_version: Annotated[str | None, typer.Option(help="Label the run is recorded under.")] = None,
    kinds: Annotated[
        str | None, typer.Option(help="Comma-separated fault kinds (default: all), e.g. http_500,timeout.")
    ] = None,
    trials: Annotated[int, typer.Option(min=1, help="Runs per faulted case.")] = 1,
    concurrency: Annotated[int, typer.Option(min=1, help="Cases in flight at once.")] = 8,
    database_url: Annotated[str | None, typer.Option(help="Results DB URL (default SQLite).")] = None,
    gateway: Annotated[
        str | None, typer.Option(help="For agents other than the reference one: the tools' base URL.")
    ] = None,
    gateway_port: Annotated[
        int, typer.Option(help="Port of the gateway (your agent calls its tools there).")
    ] = 0,
    tools: Annotated[
        Path | None,
        typer.Option(
            help="Inventory (tools.yaml): names the calls; schema_break breaks its contracts; its trusted / "
            "side_effects flags steer the injection checks."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the matrix as JSON on stdout.")] = False,
    agent_path: AgentPaths = None,
) -> None:
    """Expand SUITE into a fault matrix (case x tool it calls x fault kind), replay it, show tool x fault.

    Exit codes: 0 the agent coped with every fault, 1 a cell failed (or Prefect could not be
    reached), 2 bad input.
    """
    from trailcheck.agents.targets import (
        AgentSpecError,
        default_version_label,
        gateway_settings,
        refuse_without_gateway,
    )
    from trailcheck.checks.suite_check import load_checked_suite
    from trailcheck.cli._replay import agent_started_or_fail, check_agent, use_agent_path
    from trailcheck.loading.inventory import ContractFileError, load_inventory
    from trailcheck.loading.suite import SuiteError

    use_agent_path(agent_path)
    check_agent(agent)
    try:
        load_checked_suite(suite)
        if tools is not None:
            load_inventory(tools)
        wanted = parse_kinds(kinds)
        settings = gateway_settings(gateway, gateway_port)
        refuse_without_gateway(agent, gateway=settings)
    except (SuiteError, ContractFileError, ValueError, AgentSpecError) as exc:
        raise fail(str(exc)) from None
    console = err if as_json else out
    label = agent_version or default_version_label(agent)
    try:
        with agent_started_or_fail():
            matrix = run_matrix(
                suite, agent, label, wanted, trials, concurrency, database_url, settings, console, tools
            )
    except (AgentSpecError, ValueError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(matrix.model_dump(mode="json"), indent=2))
    else:
        print_matrix(out, matrix)
    raise typer.Exit(EXIT_OK if matrix.ok else EXIT_FAILED)


def run_matrix(
    suite_path: Path,
    agent: str,
    label: str,
    kinds: list[FaultKind],
    trials: int,
    concurrency: int,
    database_url: str | None,
    gateway: GatewaySettings | None,
    console: Console,
    tools: Path | None = None,
) -> FaultMatrix:
    """Find the tools, expand, replay through the regression flow, and fold the result into a matrix.

    `tools` (an inventory) names the calls by its routes and makes schema_break faults break the
    tools' contracts; the matrix judges how the agent copes, so the inline contract checks stay off.
    """
    from trailcheck.cli._prefect import prefect_api, warm_up

    warm_up()
    from trailcheck.agents.factory import build_adapter
    from trailcheck.agents.fault_matrix import (
        CleanReplay,
        expand,
        read_matrix,
        schema_break_skipped,
        tools_called,
        write_suite,
    )
    from trailcheck.agents.targets import resolve_agent
    from trailcheck.analysis.verdict import VerdictFailedRun
    from trailcheck.checks.suite_check import load_checked_suite
    from trailcheck.db.engine import HOME_ENV
    from trailcheck.flows.regression import regression
    from trailcheck.loading.inventory import load_inventory
    from trailcheck.render.console import progress_bar
    from trailcheck.render.progress import listening

    suite = load_checked_suite(suite_path)
    console.print(
        f"clean replay of {len(suite.cases)} case(s) through the tool gateway to find the tools they call"
    )
    inventory = load_inventory(tools) if tools is not None else None
    with resolve_agent(agent, label, gateway, needs_gateway=True, inventory=inventory) as target:
        adapter = build_adapter(target.config)

        async def clean() -> CleanReplay:
            try:
                return await tools_called(adapter, suite.cases, concurrency)
            finally:
                await adapter.aclose()

        found = asyncio.run(clean())
        routes = target.gateway.app.routes if target.gateway else []
    with_schema = {r.tool for r in routes if r.response_schema}
    with_schema |= {t.name for t in inventory.inventory.tools} if inventory else set()
    schema_fields = found.schema_fields(with_schema)
    tools_by_case, baseline_errors = found.tools, found.errored
    matrix_suite = expand(suite, tools_by_case, kinds, schema_fields)
    home = Path(os.environ.get(HOME_ENV) or ".trailcheck")
    path = write_suite(matrix_suite, home / "faults" / f"{matrix_suite.name}.yaml")
    console.print(f"fault matrix: {len(matrix_suite.cases)} faulted case(s) written to {path}")
    run_id = uuid.uuid4().hex[:12]
    with (
        prefect_api(),
        progress_bar(console, f"{matrix_suite.name} on {label}", len(matrix_suite.cases) * trials) as advance,
        listening(run_id, advance),
    ):
        try:
            result = regression(
                suite=str(path),
                agent=agent,
                agent_version=label,
                trials=trials,
                concurrency=concurrency,
                database_url=database_url,
                run_id=run_id,
                gateway=gateway,
                tools=str(tools) if tools is not None else None,
                contract_checks=False,
            )
        except VerdictFailedRun as failed:  # faulted cases fail on purpose: the matrix judges them
            result = failed.run
    matrix = read_matrix(suite, tools_by_case, kinds, result.cases, label, result.run_id, baseline_errors)
    notes = schema_break_skipped(kinds, schema_fields) + result.warnings
    return matrix.model_copy(update={"notes": notes})


def _tool_headers(console: Console, matrix: FaultMatrix) -> list[str]:
    """The tool names, or T1, T2, ... when the table would not fit the console with the names."""
    cells = [len("fault"), *(len(k.value) for k in matrix.kinds)]
    needed = max(cells) + sum(max(len(tool), len("10/10")) + 3 for tool in matrix.tools) + 4
    if needed <= console.width:
        return list(matrix.tools)
    return [f"T{i}" for i in range(1, len(matrix.tools) + 1)]


def print_matrix(console: Console, matrix: FaultMatrix) -> None:
    """The tool x fault table (passed/trials per cell), then the failing cells with their cases."""
    verdict = "[bold green]PASS[/]" if matrix.ok else "[bold red]FAIL[/]"
    console.print(
        f"{verdict} fault matrix of [bold]{escape(matrix.suite)}[/] on "
        f"[bold]{escape(matrix.agent_version)}[/]  run id {matrix.run_id}"
    )
    headers = _tool_headers(console, matrix)
    if headers != matrix.tools:
        # Too narrow for the tool names as headers (rich would cut them): number them, with a key.
        key = "  ".join(f"{h} = {tool}" for h, tool in zip(headers, matrix.tools, strict=True))
        console.print(f"tools: {escape(key)}", highlight=False)
    table = Table(title="passed trials / trials, per fault (rows) and tool (columns)", title_justify="left")
    table.add_column("fault", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="center", no_wrap=True)
    for kind in matrix.kinds:
        row = [kind.value]
        for tool in matrix.tools:
            cell = matrix.cell(tool, kind)
            if cell is None or not cell.trials:
                row.append("-")
                continue
            style = "green" if cell.passed == cell.trials else "red" if cell.passed == 0 else "yellow"
            row.append(f"[{style}]{cell.passed}/{cell.trials}[/]")
        table.add_row(*row)
    console.print(table)
    for cell in matrix.cells:
        if cell.failing_cases:
            console.print(
                f"  ✗ {cell.tool} x {cell.kind.value}: {', '.join(cell.failing_cases)}", highlight=False
            )
    for note in matrix.notes:
        console.print(f"  [yellow]note:[/] {escape(note)}", highlight=False)
    for error in matrix.baseline_errors:
        console.print(f"  ! clean replay errored: {escape(error)}", highlight=False)
