"""`trailcheck demo`: replay the bundled suite against reference v1, then v2, and show what v2 broke."""

from typing import Annotated

import typer

from trailcheck.cli._replay import BUNDLED_SUITE, load_or_fail, replay
from trailcheck.cli._support import out
from trailcheck.render.console import print_run


def demo(
    database_url: Annotated[str | None, typer.Option(help="Results DB URL (default SQLite).")] = None,
) -> None:
    """Replay the bundled suite against reference v1, then v2, and show the regressions v2 brings.

    Exit codes: 0 the demo ran, 1 Prefect or the results database could not be reached.
    """
    suite = load_or_fail(BUNDLED_SUITE)
    out.rule("1/2  the good agent: reference v1")
    first = replay(
        BUNDLED_SUITE,
        suite,
        "reference:v1",
        agent_version="reference-v1",
        baseline_version=None,
        trials=1,
        concurrency=8,
        database_url=database_url,
    )
    print_run(out, first)
    out.rule("2/2  a new version: reference v2, compared with v1")
    second = replay(
        BUNDLED_SUITE,
        suite,
        "reference:v2",
        agent_version="reference-v2",
        baseline_version="reference-v1",
        trials=1,
        concurrency=8,
        database_url=database_url,
    )
    print_run(out, second)
    found = len(second.comparison.regressions) if second.comparison else 0
    out.print(f"\nThe demo found {found} regression(s) in v2. Both runs are in the results database.")
