"""`trailcheck contracts ...`: data contracts on tool responses.

    trailcheck contracts validate tools.yaml                  # the inventory and its suites load (GX too)
    trailcheck contracts infer --from RUN_ID|traces.jsonl     # propose suites from observed responses
    trailcheck contracts check tools.yaml --hours 24          # run the `contracts` flow over a window

Exit codes as everywhere: 0 ok, 1 a contract was broken, 2 bad input (nothing ran).
Great Expectations and Prefect are imported only by the commands that need them.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trailcheck.cli._support import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, err, fail, out
from trailcheck.loading.inventory import ContractFileError, LoadedInventory, load_inventory
from trailcheck.models.contract import ContractRunResult, RecordedCalls

DEFAULT_PROPOSALS_DIR = Path("contracts-proposed")

contracts_app = typer.Typer(
    help="Data contracts on tool responses (Great Expectations).", no_args_is_help=True
)


def check_inventory(path: Path) -> LoadedInventory:
    """Load an inventory for a command, or exit 2 with every problem (file, line, tool, field, fix)."""
    try:
        return load_inventory(path)
    except ContractFileError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@contracts_app.command("validate")
def validate(inventory: Annotated[Path, typer.Argument(help="The inventory (tools.yaml).")]) -> None:
    """Check an inventory and its contract suites (Great Expectations must accept every expectation).

    Exit codes: 0 the inventory and its suites are valid, 2 a problem (each listed).
    """
    from trailcheck.checks.contracts.gx_validate import verify_suites

    loaded = check_inventory(inventory)
    try:
        verify_suites(loaded)
    except ContractFileError as exc:
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    count = sum(len(s.expectations) for s in loaded.suites.values())
    out.print(f"ok: {inventory} ({len(loaded.suites)} tools, {count} expectations)", highlight=False)


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise fail(f"{option} {value!r} is not an ISO time; fix: e.g. 2026-11-20T00:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@contracts_app.command("infer")
def infer(
    source: Annotated[str, typer.Option("--from", help="A replay run id, or a trace file (any --format).")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="The trace file's format (auto: detected)."),
    ] = "auto",
    out_dir: Annotated[Path, typer.Option("--out", help="Write one suite JSON per tool here.")] = (
        DEFAULT_PROPOSALS_DIR
    ),
    force: Annotated[bool, typer.Option(help="Overwrite suite files that already exist.")] = False,
    database_url: Annotated[
        str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL or SQLite).")
    ] = None,
) -> None:
    """Propose a contract suite per tool from observed responses (types, null rates, ranges, sets).

    Exit codes: 0 suites written, 2 bad input (unknown run or file, nothing to infer from, would
    overwrite).
    """
    from trailcheck.checks.contracts.infer import infer_suite

    recorded = _recorded(source, database_url, fmt)
    by_tool = recorded.by_tool()
    if not by_tool:
        raise fail(f"no successful tool responses in {source!r} ({recorded.failed_calls} failed calls)")
    targets = {tool: out_dir / f"{tool}.json" for tool in by_tool}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not force:
        raise fail(f"would overwrite {', '.join(existing)}; fix: choose another --out or pass --force")
    out_dir.mkdir(parents=True, exist_ok=True)
    table = Table("tool", "responses", "expectations", "file")
    for tool, responses in sorted(by_tool.items()):
        suite = infer_suite(tool, responses)
        targets[tool].write_text(json.dumps(suite.gx_dict(), indent=2) + "\n", encoding="utf-8")
        table.add_row(tool, str(len(responses)), str(len(suite.expectations)), str(targets[tool]))
    out.print(table)
    out.print(
        "These are proposals from what was observed: review ranges and value sets, then reference each "
        "file from the inventory's `contract` field."
    )


def _recorded(source: str, database_url: str | None, fmt: str = "auto") -> RecordedCalls:
    from trailcheck import db
    from trailcheck.checks.contracts.sources import responses_from_traces
    from trailcheck.db.contracts import recorded_tool_responses
    from trailcheck.loading.traces import TraceFileError

    path = Path(source)
    if path.suffix in (".jsonl", ".json", ".ndjson") or path.exists():
        try:
            return responses_from_traces(path, fmt=fmt)
        except TraceFileError as exc:
            raise fail(str(exc)) from None
    try:
        engine = db.get_engine(database_url)
        if db.get_run(engine, source) is None:
            raise fail(f"no run {source!r} in {db.mask_url(engine.url)} and no such traces file")
        return recorded_tool_responses(engine, run_ids=[source])
    except db.ResultsDatabaseError as exc:
        raise fail(str(exc)) from None


def _print_result(result: ContractRunResult) -> None:
    table = Table(
        "tool", "responses", "rows", "passed", "failed", title=f"data contracts: {result.inventory}"
    )
    for tool in result.tools:
        table.add_row(tool.tool, str(tool.responses), str(tool.rows), str(tool.passed), str(tool.failed))
    out.print(table)
    for finding in result.findings:
        out.print(f"  ✗ {finding.tool} [integration]: {finding.reason}", highlight=False, markup=False)
    if result.untracked_tools:
        out.print(f"  tools missing from the inventory: {result.untracked_tools}", highlight=False)
    verdict = "OK" if result.ok else "BROKEN"
    out.print(f"{verdict}: {result.responses} responses, {len(result.findings)} broken expectation(s), "
              f"run id {result.run_id}", highlight=False)  # fmt: skip


@contracts_app.command("check")
def check(
    inventory: Annotated[Path, typer.Argument(help="The inventory (tools.yaml).")],
    hours: Annotated[float, typer.Option(min=0.001, help="Window length, ending at --until.")] = 24.0,
    since: Annotated[str | None, typer.Option(help="Window start (ISO time); overrides --hours.")] = None,
    until: Annotated[str | None, typer.Option(help="Window end (ISO time); default now.")] = None,
    traces: Annotated[Path | None, typer.Option(help="Also check the responses in this traces file.")] = None,
    run_id: Annotated[
        list[str] | None,
        typer.Option("--run-id", metavar="RUN_ID", help="Only these replay runs (repeatable)."),
    ] = None,
    no_database: Annotated[bool, typer.Option(help="Do not read replays' responses from the DB.")] = False,
    database_url: Annotated[
        str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL or SQLite).")
    ] = None,
    report_json: Annotated[Path | None, typer.Option(help="Also write the result as JSON here.")] = None,
    notify: Annotated[bool, typer.Option(help="Post the result to Slack when Slack is configured.")] = True,
) -> None:
    """Validate the tool responses recorded in a window against the contracts (the `contracts` flow).

    Exit codes: 0 every contract held, 1 a contract broke (or Prefect or the database could not be
    reached), 2 bad input.
    """
    check_inventory(inventory)
    start, end = _parse_time(since, "--since"), _parse_time(until, "--until")
    if traces is not None and not traces.is_file():
        raise fail(f"{traces}: traces file not found")
    from trailcheck.cli._prefect import prefect_api, warm_up

    warm_up()
    from trailcheck.flows.contracts import contracts

    with prefect_api():
        result = contracts(
            inventory=str(inventory),
            hours=hours,
            since=start,
            until=end,
            traces=str(traces) if traces else None,
            run_ids=run_id or None,
            use_database=not no_database,
            database_url=database_url,
            notify=notify,
        )
    _print_result(result)
    for sent in result.notifications:  # a Slack failure is said, never changes the exit code
        said = f"posted to {sent.channel}" if sent.delivered else f"not delivered: {sent.error}"
        out.print(f"Slack: {said}", highlight=False, markup=False)
    if report_json is not None:
        report_json.write_text(result.model_dump_json(indent=2))
        out.print(f"report written to {report_json}")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)
