"""`trailcheck report`: the HTML report of a run (or of a suite's newest run), self-contained, offline."""

from pathlib import Path
from typing import Annotated

import typer

from trailcheck.cli._support import fail, out


def report(
    run_id: Annotated[str | None, typer.Argument(help="The run to report on.")] = None,
    suite: Annotated[str | None, typer.Option(help="Report on the newest run of this suite.")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder the HTML file is written to.")] = Path("."),
    database_url: Annotated[str | None, typer.Option(help="Results DB URL (default SQLite).")] = None,
) -> None:
    """Write an HTML report: pass rate and cost by version over time, per case vs baseline, fault
    matrix, retention curve and live health KPIs. One file, no network needed to open it.

    Exit codes: 0 written, 2 bad input (neither or both of RUN_ID and --suite, an unknown run or
    suite, a folder that cannot be written).
    """
    from trailcheck import db
    from trailcheck.db.report import ReportSourceError
    from trailcheck.tasks.report import write_report

    if bool(run_id) == bool(suite):
        raise fail("name either a RUN_ID or --suite SUITE (one of them)")
    try:
        path = write_report(database_url, out_dir, run_id=run_id, suite=suite)
    except (ReportSourceError, db.ResultsDatabaseError) as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"{out_dir}: cannot write the report: {exc.strerror or exc}") from None
    out.print(f"report written to {path}", highlight=False, soft_wrap=True)
