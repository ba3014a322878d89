"""`trailcheck long-session SUITE[#CASE]`: how long an early constraint survives, over a ramp of lengths."""

import tempfile
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.cli._support import EXIT_FAILED, EXIT_OK, err, fail, out
from trailcheck.loading.suite import SuiteError
from trailcheck.models import RetentionReport, SessionPlan
from trailcheck.render.console import progress_bar
from trailcheck.render.markdown_retention import curve_lines, verdict_line
from trailcheck.variants.long_session import (
    ScenarioError,
    build_sessions,
    parse_ramp,
    select_scenarios,
)
from trailcheck.variants.perturb import render_suite

DEFAULT_RAMP = "0,5,10,20,40"


def long_session(
    suite_or_case: Annotated[
        str, typer.Argument(help="A suite YAML (every multi-turn case is a scenario) or SUITE#CASE_ID.")
    ],
    agent: Annotated[
        str,
        typer.Option(help="reference:v1|v2, an http(s) URL, python:module:function, or an agent YAML file."),
    ] = "reference:v1",
    ramp: Annotated[str, typer.Option(help="Filler turns to try, comma-separated.")] = DEFAULT_RAMP,
    case: Annotated[str | None, typer.Option(help="Use only this case of the suite as the scenario.")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Runs per session length and scenario.")] = 3,
    threshold: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="A length fails when its pass rate is below this.")
    ] = 1.0,
    seed: Annotated[int, typer.Option(help="Seed of the filler turns (same seed, same fillers).")] = 0,
    agent_version: Annotated[str | None, typer.Option(help="Label the run is recorded under.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Sessions in flight at once.")] = 8,
    database_url: Annotated[str | None, typer.Option(help="Results DB URL (default SQLite).")] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also keep the generated sessions suite here.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite the --out file if it exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
) -> None:
    """Plant a constraint, pad with N filler turns, probe; for each N of --ramp. Shows where the agent fails.

    Each length runs --trials times through the regression flow (results DB, artifacts); the
    report is the pass rate per length (the retention curve) and the first length below
    --threshold, reported as context_saturation. Exit 0 when no length fails, 1 when one does.

    Exit codes: 0 the constraint held at every length, 1 it was lost (or Prefect could not be
    reached), 2 bad input.
    """
    from trailcheck.cli._replay import check_agent  # the same agent validation as `trailcheck run`

    path_text, _, hashed = suite_or_case.partition("#")
    suite_path, case_id = Path(path_text), case or hashed or None
    try:
        lengths = parse_ramp(ramp)
        suite = load_checked_suite(suite_path)
        scenarios = select_scenarios(suite, suite_path, case_id)
    except (ScenarioError, SuiteError) as exc:
        raise fail(str(exc)) from None
    if out_file is not None and not out_file.parent.is_dir():
        raise fail(f"--out {out_file}: directory {out_file.parent} does not exist\n    fix: create it first")
    if out_file is not None and out_file.exists() and not force:
        raise fail(
            f"--out {out_file} already exists\n    fix: pick another path or pass --force to overwrite"
        )
    check_agent(agent)
    built = build_sessions(scenarios, lengths, seed)
    header = [
        f"Long-session cases built from {suite_or_case} by `trailcheck long-session` "
        f"(ramp {','.join(map(str, lengths))}, seed {seed}).",
        "",
    ]
    text = render_suite(
        suite,
        [v for v, _ in built],
        header,
        name=f"{suite.name}-long-session",
        description=f"{suite.name} scenarios with filler turns before the probe",
    )
    with tempfile.TemporaryDirectory(prefix="trailcheck-long-session-") as tmp:
        sessions_path = out_file or Path(tmp) / "sessions.yaml"
        sessions_path.write_text(text, encoding="utf-8")
        load_checked_suite(sessions_path)  # what was written must load, or this is trailcheck's bug
        report = _run(sessions_path, [p for _, p in built], agent, agent_version, trials, concurrency,
                      threshold, database_url, quiet=as_json)  # fmt: skip
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        print_retention(out, report)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_FAILED)


def _run(
    sessions: Path,
    plans: list[SessionPlan],
    agent: str,
    agent_version: str | None,
    trials: int,
    concurrency: int,
    threshold: float,
    database_url: str | None,
    quiet: bool,
) -> RetentionReport:
    from trailcheck.cli._prefect import prefect_api, warm_up

    warm_up()
    from trailcheck.flows.long_session import long_session as flow
    from trailcheck.render.progress import listening

    run_id = uuid.uuid4().hex[:12]
    console = err if quiet else out
    title = f"long session on {agent_version or agent}"
    with (
        prefect_api(),
        progress_bar(console, title, len(plans) * trials) as advance,
        listening(run_id, advance),
    ):
        return flow(
            suite=str(sessions),
            plans=plans,
            agent=agent,
            agent_version=agent_version,
            trials=trials,
            concurrency=concurrency,
            threshold=threshold,
            database_url=database_url,
            run_id=run_id,
        )


def print_retention(console: Console, report: RetentionReport) -> None:
    """The verdict, the curve, and a table of lengths with why the first failing trial failed."""
    style = "bold green" if report.ok else "bold red"
    console.print(f"[{style}]{escape(verdict_line(report))}[/]", highlight=False)
    console.print(
        f"scenarios {', '.join(report.scenarios)} on {escape(report.agent_version)}, run id {report.run_id}",
        highlight=False,
    )
    for line in curve_lines(report):
        console.print(line, highlight=False)
    table = Table(title="Retention by session length", title_justify="left")
    for column in ("filler turns", "turns", "pass rate", "passed", "first failure"):
        table.add_column(column, overflow="fold")
    for p in report.points:
        color = "green" if p.pass_rate >= report.threshold else "red"
        table.add_row(
            str(p.fillers), str(p.turns), f"[{color}]{p.pass_rate:.1%}[/]", f"{p.passes}/{p.trials}",
            escape(p.reason),
        )  # fmt: skip
    console.print(table)
