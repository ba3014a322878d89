"""The `trailcheck` command line: the Typer app, assembled from one module per command.

Exit codes (trailcheck.cli._support): 0 everything passed, 1 a case failed or errored or a
regression was found, 2 bad input or usage (nothing ran).
"""

import typer

from trailcheck.cli import (
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
    spool,
    validate,
)
from trailcheck.cli import run as run_command

app = typer.Typer(
    name="trailcheck",
    help="Continuous testing for AI agents: replay suites, score whole trajectories, catch regressions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command(name="run")(run_command.run)
app.command(name="validate")(validate.validate)
app.command(name="schema")(schema.schema)
app.command(name="demo")(demo.demo)
app.command(name="score")(score.score)
app.command(name="sample")(live.sample)
app.command(name="promote")(live.promote)
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
