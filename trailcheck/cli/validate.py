"""`trailcheck validate`: check suite files without running them."""

from pathlib import Path
from typing import Annotated

import typer

from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.cli._support import EXIT_BAD_INPUT, err, out
from trailcheck.loading.suite import SuiteError


def validate(
    suites: Annotated[list[Path], typer.Argument(help="Suite YAML files.")],
) -> None:
    """Check suite files without running them; every problem is listed with file, line, case and field.

    Exit codes: 0 every suite is valid, 2 a problem (every one listed).
    """
    bad = 0
    for path in suites:
        try:
            suite = load_checked_suite(path)
        except SuiteError as exc:
            bad += 1
            err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
            continue
        out.print(f"ok: {path} ({suite.name} v{suite.version}, {len(suite.cases)} cases)", highlight=False)
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)
