"""`trailcheck sample`, `trailcheck promote` and `trailcheck generate-traces`: live sampling from the CLI.

Exit codes as everywhere: 0 no anomaly and no output rejected in review (sampled traces may fail
checks: production always has some, and the headline says how many), 1 an anomaly or a rejected
output, 2 bad input (a source, suite or option that cannot be used).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trailcheck.cli._support import EXIT_FAILED, EXIT_OK, err, fail, out
from trailcheck.models.health import Anomaly, LiveRunResult


def _print_result(result: LiveRunResult) -> None:
    from trailcheck.analysis.verdict import LiveStatus, live_status
    from trailcheck.render.markdown_live import task_type_rows

    state = {LiveStatus.ATTENTION: "[red]ATTENTION[/]", LiveStatus.FAILING: "[yellow]OK[/]"}.get(
        live_status(result), "[green]OK[/]"
    )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(result.sampled_by_reason.items())) or "none"
    skipped = f"{result.bad_records} bad skipped"
    if result.out_of_range:
        skipped += f", {result.out_of_range} outside --since/--until"
    out.print(
        f"{state} live run {result.run_id}: read {result.read} traces from {result.source} ({skipped}), "
        f"sampled {result.sampled} ({reasons}), {result.failed} failing a check; judge: {result.judge}",
        highlight=False,
    )
    rows = task_type_rows(result)
    if rows:
        shown = {"task type": "task type", "traces": "traces", "completion": "done", "escalation": "escal.",
                 "tool errors": "tool err", "cost mean": "cost", "quality": "quality",
                 "failure rate": "failing", "anomalies": "anom."}  # fmt: skip
        table = Table(*shown.values(), box=None, pad_edge=False)
        for row in rows:
            table.add_row(*(str(row[k]) for k in shown))
        out.print(table)
    # One line per task type and metric: where it started, how many windows, the first one's numbers.
    first: dict[tuple[str, str], list[Anomaly]] = {}
    for a in result.anomalies:
        first.setdefault((a.task_type, a.metric), []).append(a)
    for (task_type, metric), found in first.items():
        a = found[0]
        out.print(
            f"  [red]![/] {task_type} {metric} from {a.window_start:%Y-%m-%d %H:%M}Z "
            f"({len(found)} window(s)): {a.detail}",
            highlight=False,
        )
    for problem in result.bad_record_examples[:3]:
        err.print(f"skipped: {problem.splitlines()[0]}", highlight=False, markup=False)


def sample(
    source: Annotated[
        str,
        typer.Argument(
            help="A trace file (any format), an http(s) endpoint with cursor pages, sql+TABLE@URL, "
            "or otlp-store:DIR (what `trailcheck collect` writes)."
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="A trace file's format (auto: detected; see `trailcheck score`).")
    ] = "auto",
    rate: Annotated[float, typer.Option(min=0, max=1, help="Share of traces sampled uniformly.")] = 0.05,
    seed: Annotated[int, typer.Option(help="Sampling seed: the same seed samples the same traces.")] = 0,
    min_per_task_type: Annotated[int, typer.Option(min=0, help="At least this many per task type.")] = 0,
    max_size: Annotated[
        int | None, typer.Option(min=1, help="Fixed-size uniform sample (reservoir).")
    ] = None,
    cost_above: Annotated[float | None, typer.Option(help="Always sample traces costing more (USD).")] = None,
    confidence_below: Annotated[
        float | None, typer.Option(help="Always sample traces less confident.")
    ] = None,
    window: Annotated[int, typer.Option(min=60, help="Health window in seconds.")] = 3600,
    since: Annotated[datetime | None, typer.Option(help="Only traces stamped at or after (UTC).")] = None,
    until: Annotated[datetime | None, typer.Option(help="Only traces stamped before (UTC).")] = None,
    check: Annotated[
        list[str] | None, typer.Option(metavar="CHECK", help="Registry check to run (repeat; default all).")
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(help="Tool inventory (tools.yaml): its trusted / side_effects flags steer injection_*."),
    ] = None,
    judge: Annotated[bool, typer.Option(help="Use the LLM judge configured in $TRAILCHECK_JUDGE_*.")] = True,
    review: Annotated[bool, typer.Option(help="Pause for a person's review in the Prefect UI.")] = False,
    review_timeout: Annotated[int, typer.Option(min=1, help="Seconds to wait for a review.")] = 3600,
    promote_to: Annotated[Path | None, typer.Option(help="Append rejected traces to this suite.")] = None,
    max_bad_records: Annotated[int, typer.Option(min=0, help="Bad records skipped before stopping.")] = 100,
    database_url: Annotated[
        str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL).")
    ] = None,
    report_json: Annotated[Path | None, typer.Option(help="Also write the run result as JSON here.")] = None,
) -> None:
    """Sample live traces, score them, update health per task type and flag anomalies.

    Exit codes: 0 no anomaly and no rejected output (failing sampled traces are counted in the
    headline, not a failure: the anomaly detector judges whether their rate changed), 1 an anomaly was
    flagged or an output rejected in review, 2 bad input (including a source with no valid trace).
    """
    from trailcheck.checks.registry import UnknownCheckError, resolve
    from trailcheck.loading.sources import TraceSourceError
    from trailcheck.loading.sources.spec import file_of, with_format
    from trailcheck.models.sampling import AlwaysInclude, SamplingPolicy

    path = file_of(source)
    if path is not None and not Path(path).is_file():
        raise fail(f"{path}: no such trace file")
    source = with_format(source, fmt)
    try:
        resolve(check)
        policy = SamplingPolicy(
            rate=rate, seed=seed, min_per_task_type=min_per_task_type, max_size=max_size,
            always_include=AlwaysInclude(cost_above=cost_above, confidence_below=confidence_below),
        )  # fmt: skip
    except (UnknownCheckError, ValueError) as exc:
        raise fail(str(exc)) from None
    if inventory is not None:
        from trailcheck.cli.contracts import check_inventory

        check_inventory(inventory)  # exit 2 with the problem before anything is read or recorded
    from trailcheck.cli._prefect import prefect_api, warm_up

    warm_up()
    from trailcheck.flows.live_sampling import live_sampling

    try:
        with prefect_api():
            result = live_sampling(
                source=source, sampling=policy, window_s=window, since=since, until=until, checks=check,
                inventory=str(inventory) if inventory else None, use_judge=judge, review=review,
                review_timeout_s=review_timeout, promote_to=str(promote_to) if promote_to else None,
                max_bad_records=max_bad_records, database_url=database_url,
            )  # fmt: skip
    except TraceSourceError as exc:
        raise fail(str(exc)) from None
    _print_result(result)
    if report_json:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(result.model_dump_json(indent=2))
    if result.read == 0:
        skipped = f"{result.bad_records} bad record(s) skipped, {result.out_of_range} outside --since/--until"
        raise fail(f"{source}: no valid trace was read ({skipped}); nothing was sampled or scored")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_FAILED)


def promote(
    trace_id: Annotated[str, typer.Argument(help="The id of the trace to turn into a case.")],
    suite: Annotated[Path, typer.Option(help="The suite YAML file the case is appended to.")],
    traces: Annotated[
        str | None,
        typer.Option(help="Where the trace is (a source); default: the results DB's sampled traces."),
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="A trace file's format (auto: detected; see `trailcheck score`).")
    ] = "auto",
    expected: Annotated[str, typer.Option(help="What the agent should have done.")] = "",
    category: Annotated[str | None, typer.Option(help="Failure category (default: from the checks).")] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Results DB URL (default $TRAILCHECK_DATABASE_URL).")
    ] = None,
) -> None:
    """Append a regression case made from trace TRACE_ID to a suite: turns, tool fixtures, behaviour.

    Exit codes: 0 the case was appended, 2 bad input (unknown trace, suite).
    """
    from trailcheck import db
    from trailcheck.analysis.promote import PromoteError, append_case, case_from_trace
    from trailcheck.db.live import find_trace
    from trailcheck.loading.sources import TraceSourceError, open_source
    from trailcheck.loading.sources.spec import with_format
    from trailcheck.loading.suite import SuiteError
    from trailcheck.models import FailureCategory, Trace
    from trailcheck.models.live import ScoredTrace

    try:
        failure = FailureCategory(category) if category else None
    except ValueError:
        raise fail(
            f"unknown category {category!r}; known: {', '.join(c.value for c in FailureCategory)}"
        ) from None
    found: tuple[Trace, ScoredTrace | None] | None = None
    try:
        if traces is not None:
            found = next(
                ((t, None) for t in open_source(with_format(traces, fmt)) if t.trace_id == trace_id), None
            )
        else:
            found = find_trace(db.get_engine(database_url), trace_id)
    except (TraceSourceError, db.ResultsDatabaseError) as exc:
        raise fail(str(exc)) from None
    if found is None:
        where = traces or "the results database (it keeps the failing and reviewed sampled traces)"
        raise fail(f"trace {trace_id!r} not found in {where}; fix: pass --traces FILE that holds it")
    trace, scored = found
    try:
        case = case_from_trace(trace, expected=expected, scored=scored, failure_category=failure)
        append_case(suite, case)
    except (PromoteError, SuiteError) as exc:
        raise fail(str(exc)) from None
    out.print(
        f"appended case {case.id} ({len(case.turns)} turn(s), {len(case.fixtures)} fixture(s)) to {suite}"
    )


def generate_traces(
    output: Annotated[Path, typer.Argument(help="The JSONL file to write.")],
    hours: Annotated[int, typer.Option(min=1, help="Hours of traffic.")] = 48,
    per_hour: Annotated[int, typer.Option(min=1, help="Traces per hour.")] = 400,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    start: Annotated[str, typer.Option(help="UTC start time (ISO).")] = "2026-11-01T00:00:00",
    cost_drift_at: Annotated[
        float | None, typer.Option(help="Hours after start when cost per task drifts up.")
    ] = None,
    cost_drift_factor: Annotated[float, typer.Option(help="Cost multiplier after the drift.")] = 1.35,
    silent_errors_from: Annotated[
        float | None, typer.Option(help="Hours after start when silent errors on refunds rise.")
    ] = None,
) -> None:
    """Write a realistic production trace stream from the reference agent (with known incidents).

    Exit codes: 0 written, 2 bad input (e.g. OUTPUT is a directory).
    """
    from trailcheck.agents.reference.tracegen import StreamConfig, write_stream

    if output.is_dir():
        raise fail(f"{output} is a directory; give the file to write, e.g. {output / 'traces.jsonl'}")
    output.parent.mkdir(parents=True, exist_ok=True)

    try:
        begin = datetime.fromisoformat(start).replace(tzinfo=UTC)
    except ValueError:
        raise fail(f"--start {start!r} is not an ISO date-time (e.g. 2026-11-01T00:00:00)") from None

    def at(hours_after: float | None) -> datetime | None:
        return None if hours_after is None else begin + timedelta(hours=hours_after)

    config = StreamConfig(
        start=begin, hours=hours, traces_per_hour=per_hour, seed=seed, cost_drift_factor=cost_drift_factor,
        cost_drift_at=at(cost_drift_at), silent_errors_from=at(silent_errors_from),
    )  # fmt: skip
    n = write_stream(output, config)
    incidents = []
    if config.cost_drift_at:
        incidents.append(f"cost x{cost_drift_factor:g} from {config.cost_drift_at:%Y-%m-%d %H:%M}Z")
    if config.silent_errors_from:
        incidents.append(f"silent refund errors from {config.silent_errors_from:%Y-%m-%d %H:%M}Z")
    out.print(f"wrote {n} traces to {output}" + (f" ({'; '.join(incidents)})" if incidents else ""))
