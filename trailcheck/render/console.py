"""What the CLI draws: a progress bar during a replay and a summary of the run after it."""

import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trailcheck.models import CaseResult, CaseStatus, CaseSummary, FailureOrigin, RunResult

_STYLE = {CaseStatus.PASSED: "green", CaseStatus.FAILED: "red", CaseStatus.ERRORED: "yellow"}
# Below this many columns (CI logs, pipes: 80) a four-column table squeezes reasons into slivers.
WIDE = 120
REASON_INDENT = 6


@contextmanager
def progress_bar(console: Console, title: str, total: int) -> Iterator[Callable[[CaseResult], None]]:
    """A bar over all trials; yields the callback that advances it (thread-safe, as rich's Progress is)."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[red]{task.fields[failed]} not passing"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(escape(title), total=total, failed=0)
        failed = 0

        def advance(result: CaseResult) -> None:
            nonlocal failed
            failed += result.status is not CaseStatus.PASSED
            progress.update(task, advance=1, failed=failed)

        yield advance
        # Shards on a Dask cluster report no progress here; the bar still ends full when the run does.
        progress.update(task, completed=total)


def print_run(console: Console, run: RunResult) -> None:
    """Verdict, reliability, regressions with where they diverge, and the cases that did not pass."""
    verdict = "[bold green]PASS[/]" if run.ok else "[bold red]FAIL[/]"
    counts = ", ".join(f"{run.count(s)} {s.value}" for s in CaseStatus)
    hat = "  ".join(f"pass^{k} {v:.1%}" for k, v in sorted(run.pass_hat_k.items()))
    console.print(
        f"{verdict} suite [bold]{escape(run.suite)}[/] v{escape(run.suite_version)} on "
        f"[bold]{escape(run.agent_version)}[/]: {len(run.cases)} cases x {run.trials} trial(s): {counts}"
    )
    console.print(f"pass@1 {run.pass_at_1:.1%}  {hat}   run id {run.run_id}")
    origins = run.failures_by_origin()
    if any(origins.values()):
        console.print(
            f"trials not passing: {origins[FailureOrigin.AGENT]} agent failure(s), "
            f"{origins[FailureOrigin.INFRASTRUCTURE]} infrastructure failure(s)",
            highlight=False,
        )
    if run.spool is not None:
        _print_spool(console, run)
    for warning in run.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", highlight=False)
    if run.comparison is not None:
        _print_comparison(console, run)
    listed = {r.case_id for r in run.comparison.regressions} if run.comparison else set()
    failing = [c for c in run.cases if c.status is not CaseStatus.PASSED and c.case_id not in listed]
    if not failing:
        return
    title = "Other cases not passing" if listed else "Cases not passing"
    if console.width < WIDE:
        _print_failing_list(console, title, failing)
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("case", "status", "category", "reason"):
        table.add_column(column, overflow="fold")
    for case in failing:
        category = case.failure_category.value if case.failure_category else ""
        status = f"[{_STYLE[case.status]}]{case.status.value}[/] {case.passes}/{case.trials}"
        table.add_row(escape(case.case_id), status, category, escape(case.reason))
    console.print(table)


def _print_failing_list(console: Console, title: str, failing: list[CaseSummary]) -> None:
    """One line per case (id, status, category), its reason wrapped below it, indented."""
    console.print(f"{title}:")
    for case in failing:
        category = f" [{case.failure_category.value}]" if case.failure_category else ""
        console.print(
            f"  [{_STYLE[case.status]}]✗[/] [bold]{escape(case.case_id)}[/] {case.status.value} "
            f"{case.passes}/{case.trials}{escape(category)}",
            highlight=False,
        )
        width = max(20, console.width - REASON_INDENT)
        for line in textwrap.wrap(case.reason, width, break_on_hyphens=False):
            console.print(" " * REASON_INDENT + line, markup=False, highlight=False, soft_wrap=True)


def _print_spool(console: Console, run: RunResult) -> None:
    spool = run.spool
    assert spool is not None
    where = escape(spool.path)
    if spool.pending:
        state = f"still in the local spool {where}: the next run (or `trailcheck spool flush`) writes them"
    else:
        state = f"written to the database since (spool {where})"
    console.print(
        f"[bold yellow]results database failed during the run[/]: {spool.spooled} record(s) spooled, {state}",
        highlight=False,
    )
    if spool.reason:
        console.print(f"  last database error: {escape(spool.reason)}", highlight=False)


def _print_comparison(console: Console, run: RunResult) -> None:
    comparison = run.comparison
    assert comparison is not None
    if comparison.error:
        head = f"[bold red]no comparison with {escape(comparison.baseline_version)}[/]"
        console.print(f"{head}: {escape(comparison.error)}")
        return
    head = f"against [bold]{escape(comparison.baseline_version)}[/] (run {comparison.baseline_run_id}):"
    for shift in comparison.flaky:
        console.print(
            f"  [yellow]~[/] {escape(shift.case_id)} flaky: {shift.passes}/{shift.trials} "
            f"(was {shift.baseline_passes}/{shift.baseline_trials}, "
            f"adjusted p={shift.adjusted_p_value:.2g}): "
            "not a significant drop, does not fail the gate",
            highlight=False,
        )
    if not comparison.regressions:
        console.print(
            f"{head} no regressions" + (f"; fixed: {', '.join(comparison.fixed)}" if comparison.fixed else "")
        )
        return
    console.print(f"{head} [bold red]{len(comparison.regressions)} regression(s)[/]")
    for reg in comparison.regressions:
        category = f" [{reg.failure_category.value}]" if reg.failure_category else ""
        console.print(f"  [red]✗[/] [bold]{escape(reg.case_id)}[/]{escape(category)}: {escape(reg.reason)}")
        if reg.divergence is not None:
            d = reg.divergence
            was, now = escape(d.baseline_step or "(nothing)"), escape(d.current_step or "(nothing)")
            console.print(f"      diverges at step {d.step_index}: was {was}  now {now}", highlight=False)
