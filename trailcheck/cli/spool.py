"""`trailcheck spool`: see and flush results kept locally while the results database was down."""

from typing import Annotated

import typer

from trailcheck.cli._support import err, out

app = typer.Typer(help="Results spooled locally while the results database was down.", no_args_is_help=True)
DatabaseUrl = Annotated[
    str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL or SQLite).")
]


@app.command("list")
def list_pending(database_url: DatabaseUrl = None) -> None:
    """The runs with records still waiting in the spool for this database.

    Exit codes: 0 always.
    """
    from trailcheck import db
    from trailcheck.db.spool import pending_runs, spool_dir

    runs = pending_runs(database_url)
    if not runs:
        out.print(f"nothing spooled for {db.mask_url(db.database_url(database_url))}", highlight=False)
        return
    out.print(f"{len(runs)} run(s) spooled in {spool_dir(database_url)}:", highlight=False)
    for run_id in runs:
        out.print(f"  {run_id}", highlight=False)


@app.command("flush")
def flush(database_url: DatabaseUrl = None) -> None:
    """Write every spooled record to the database (idempotent); exit 1 if it is still unreachable.

    Exit codes: 0 everything written, 1 the database is still unreachable.
    """
    from trailcheck import db
    from trailcheck.db.spool import flush_spool

    try:
        written = flush_spool(database_url)
    except db.ResultsDatabaseError as exc:
        err.print(f"spool kept: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    out.print(f"{written} spooled record(s) written to the results database", highlight=False)
