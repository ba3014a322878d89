"""`trailcheck score TRACES`: judge recorded traces with the trace checks, no agent needed.

The file is in any format of trailcheck/loading/traces (trailcheck JSON Lines, OTLP, pydantic-ai,
Agents SDK, Responses, Anthropic), detected from its first records unless --format names one.
Line-per-trace formats are streamed (one line in memory at a time); each trace is scored by the checks of
checks/registry.py (all, or those named with --check), with the trace's own `expectations`
(goal, constraints) when it carries them. Output: a line per trace and, under a failing one,
each failing check's reason and the message indices involved; with --json, JSON Lines (one
object per trace, then one summary object).

A bad line (not JSON, not a trace, a malformed message) is reported on stderr with file:line,
the field and the fix, and skipped: the other traces are still scored. Exit codes: 0 every
check passed on every trace, 1 a check failed (or crashed) on some trace, 2 bad input (a bad
line, an unreadable file, an unknown check), which wins over 1 since the result is incomplete.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from trailcheck.checks.contracts.inline import mark_contract_breaks
from trailcheck.checks.provenance import TaintPolicy
from trailcheck.checks.registry import TraceCheck, UnknownCheckError, resolve, score_trace, trace_checks
from trailcheck.cli._support import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, err, out
from trailcheck.loading.traces import BadRecord, ReadOptions, TraceFileError, format_names, read_traces
from trailcheck.models import TraceScore, Verdict, VerdictStatus
from trailcheck.models.inventory import ToolInventory
from trailcheck.render.terminal import escape

_MARK = {
    VerdictStatus.PASSED: "✓",
    VerdictStatus.FAILED: "✗",
    VerdictStatus.ERRORED: "!",
    VerdictStatus.SKIPPED: "-",
}


@dataclass
class _Tally:
    traces: int = 0
    failed: int = 0
    bad_lines: int = 0
    by_check: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)

    def add(self, score: TraceScore) -> None:
        self.traces += 1
        self.failed += score.failed
        for verdict in score.verdicts:
            if verdict.counts_as_failure:
                self.by_check[verdict.check] = self.by_check.get(verdict.check, 0) + 1
            elif verdict.is_warning:
                self.warnings[verdict.check] = self.warnings.get(verdict.check, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "traces": self.traces,
            "passed": self.traces - self.failed,
            "failed": self.failed,
            "bad_lines": self.bad_lines,
            "failures_by_check": self.by_check,
            "warnings_by_check": self.warnings,
        }


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "check": verdict.check,
        "status": verdict.status.value,
        "reason": verdict.reason,
        "failure_category": verdict.failure_category.value if verdict.failure_category else None,
        "message_indices": verdict.message_indices,
        "step_index": verdict.step_index,
        "warning": verdict.is_warning,
    }


def _print_human(out: Console, score: TraceScore) -> None:
    name = escape(score.trace_id or "-")
    if not score.failed:
        marks = " ".join(f"{_MARK[v.status]}{v.check}" for v in score.verdicts)
        out.print(
            f"[green]PASS[/] line {score.line:<5} {name}  [dim]{escape(marks)}[/]",
            highlight=False,
            soft_wrap=True,
        )
    else:
        out.print(f"[red]FAIL[/] line {score.line:<5} {name}", highlight=False)
    for v in score.verdicts:
        if v.counts_as_failure or v.is_warning:
            category = f" [{v.failure_category.value}]" if v.failure_category else ""
            where = f"  (messages {', '.join(map(str, v.message_indices))})" if v.message_indices else ""
            mark = "[yellow]⚠[/]" if v.is_warning else _MARK[v.status]
            out.print(
                f"     {mark} {escape(v.check + category)}: {escape(v.reason)}{escape(where)}",
                highlight=False,
                soft_wrap=True,
            )


def _print_summary(out: Console, tally: _Tally) -> None:
    by_check = ", ".join(f"{name} {n}" for name, n in sorted(tally.by_check.items())) or "none"
    bad = f", {tally.bad_lines} bad line(s) skipped" if tally.bad_lines else ""
    warned = ", ".join(f"{name} {n}" for name, n in sorted(tally.warnings.items()))
    warnings = f"; warnings by check: {warned}" if warned else ""
    out.print(
        f"{tally.traces} trace(s): {tally.traces - tally.failed} passed, {tally.failed} failed{bad}; "
        f"failures by check: {by_check}{warnings}",
        highlight=False,
        soft_wrap=True,
    )


def score_file(
    path: Path,
    checks: dict[str, TraceCheck],
    out: Console,
    err: Console,
    as_json: bool,
    fmt: str = "auto",
    options: ReadOptions | None = None,
    inventory: ToolInventory | None = None,
) -> _Tally:
    """Score every trace of `path` (in format `fmt`), printing as it goes; the tally says what happened."""
    tally = _Tally()
    for item in read_traces(path, fmt, options or ReadOptions(strict=True)):
        if isinstance(item, BadRecord):
            tally.bad_lines += 1
            err.print(item.render(), markup=False, highlight=False, soft_wrap=True)
            if as_json:
                bad = {
                    "line": item.line,
                    "bad_input": {"field": item.field, "problem": item.problem, "fix": item.fix},
                }
                out.file.write(json.dumps(bad) + "\n")
            continue
        trace = item.trace
        trajectory = item.to_trajectory()
        if inventory is not None:
            trajectory = mark_contract_breaks(trajectory, inventory)
        verdicts = score_trace(trajectory, trace.as_case(), checks)
        score = TraceScore(trace_id=trace.trace_id, line=item.line, verdicts=verdicts)
        tally.add(score)
        if as_json:
            record = {
                "line": score.line,
                "trace_id": score.trace_id,
                "status": "failed" if score.failed else "passed",
                "verdicts": [_verdict_json(v) for v in verdicts],
            }
            out.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            _print_human(out, score)
    return tally


def score(
    traces: Annotated[
        Path,
        typer.Argument(help="A trace file: trailcheck JSON Lines, OTLP, pydantic-ai... (--format)."),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help=f"The trace format: {', '.join(format_names())} (auto: detected from the first records).",
        ),
    ] = "auto",
    inventory: Annotated[
        Path | None,
        typer.Option(
            help="A tool inventory (tools.yaml): a result breaking its tool's contract is a failed call; "
            "its trusted / side_effects flags decide what the injection checks judge."
        ),
    ] = None,
    task_type_attribute: Annotated[
        str, typer.Option(help="The span attribute or metadata key that names a trace's task type.")
    ] = "trailcheck.task_type",
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check",
            metavar="CHECK",
            help="Run only this check (repeatable). Default: every built-in check.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one object per trace, then a summary.")
    ] = False,
) -> None:
    """Score recorded traces with the trace checks (silent_error, security, ...) without running an agent.

    Exit codes: 0 every trace passed, 1 a trace failed, 2 bad input: bad lines (reported with
    file:line, field and fix, and skipped; the rest is still scored), or a file with no valid trace.
    """
    tools = None
    if inventory is not None:
        from trailcheck.loading.inventory import ContractFileError, load_inventory

        try:
            tools = load_inventory(inventory).inventory
        except ContractFileError as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        # Under an inventory, its trusted tools are not searched for injections and its
        # side_effects flags say which calls could act on one.
        checks = resolve(check or None, trace_checks(TaintPolicy.from_inventory(tools) if tools else None))
    except UnknownCheckError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        options = ReadOptions(strict=True, task_type_attribute=task_type_attribute)
        tally = score_file(traces, checks, out, err, as_json, fmt, options, tools)
    except TraceFileError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if as_json:
        out.file.write(json.dumps({"summary": tally.as_dict()}) + "\n")
    else:
        _print_summary(out, tally)
    if tally.traces == 0:
        what = f"all {tally.bad_lines} line(s) are bad" if tally.bad_lines else "it is empty"
        err.print(
            f"[bold red]error:[/] {escape(str(traces))}: no valid trace to score ({what}); "
            "give a JSON Lines file with one trace per line",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    if tally.bad_lines:
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(EXIT_FAILED if tally.failed else EXIT_OK)
