"""The `trailcheck` command line: the Typer app, assembled from one module per command.

Exit codes (trailcheck.cli._support): 0 everything passed, 1 a case failed or errored or a
regression was found, 2 bad input or usage (nothing ran).
"""

from collections.abc import Callable
from typing import Annotated, NoReturn

import typer

from trailcheck.cli import (
    collect,
    contracts,
    demo,
    faults,
    live,
    long_session,
    notify_change,
    perturb,
    reference,
    report,
    review,
    schema,
    score,
    server,
    spool,
    validate,
)
from trailcheck.cli import run as run_command
from trailcheck.cli._support import EXIT_OK, out

app = typer.Typer(
    name="trailcheck",
    help="Continuous testing for AI agents: replay suites, score whole trajectories, catch regressions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: rich mode prints a type beside every option (`<bool>`, `<list[str]>`), noise
    # next to the help text that already says what to give.
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from trailcheck.cli._version import version_line

        out.print(version_line(), highlight=False)
        raise typer.Exit(EXIT_OK)


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Continuous testing for AI agents: replay suites, score whole trajectories, catch regressions.

    Exit codes: 0 everything passed, 1 a case failed or errored or a regression was found (or an
    outside service stayed unreachable), 2 bad input or usage (nothing ran).
    """


app.command(name="run")(run_command.run)
app.command(name="validate")(validate.validate)
app.command(name="schema")(schema.schema)
app.command(name="demo")(demo.demo)
app.command(name="score")(score.score)
app.command(name="sample")(live.sample)
app.command(name="promote")(live.promote)
app.command(name="collect")(collect.collect)
app.command(name="generate-traces")(live.generate_traces)
app.command(name="perturb")(perturb.perturb)
app.command(name="long-session")(long_session.long_session)
app.command(name="faults")(faults.faults)
app.command(name="notify-change")(notify_change.notify_change)
app.command(name="report")(report.report)
app.add_typer(contracts.contracts_app, name="contracts")
app.add_typer(spool.app, name="spool")
app.add_typer(review.app, name="review")
app.add_typer(reference.app, name="reference")
app.add_typer(server.app, name="server")


def run_app() -> int:
    """Run the command of sys.argv and return its exit code (a string exit is printed on stderr)."""
    import sys

    try:
        app()
        return 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def finish(code: int, before_exit: Callable[[], None] | None = None) -> NoReturn:
    """Leave without tearing the interpreter down.

    By the time a command returns, its results are in the database and its reports are written and
    closed. Prefect's log and event workers drain in their exit handlers, run here; what is skipped
    is the interpreter freeing every module and object one by one, about a second after a run.
    """
    import atexit
    import os
    import sys

    atexit._run_exitfuncs()  # the exit handlers os._exit would skip (Prefect drains its workers here)
    sys.stdout.flush()
    sys.stderr.flush()
    if before_exit is not None:
        before_exit()
    os._exit(code)


def main() -> NoReturn:
    """Run the command in this process and exit with its code."""
    finish(run_app())
