"""What a person reads about a live sampling run: the Markdown summary and the per-task-type table."""

from trailcheck.analysis.health import merge_windows
from trailcheck.analysis.verdict import live_status
from trailcheck.models.health import HealthWindow, LiveRunResult
from trailcheck.render.markdown import code_span, escape_markdown


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.5f}"


def task_type_totals(windows: list[HealthWindow]) -> list[HealthWindow]:
    """One row per task type over all the run's windows (see `merge_windows` for the costs)."""
    totals: dict[str, HealthWindow] = {}
    for w in windows:
        t = totals.get(w.task_type)
        totals[w.task_type] = w if t is None else merge_windows(t, w)
    return [totals[k] for k in sorted(totals)]


def task_type_rows(result: LiveRunResult) -> list[dict[str, str | int]]:
    """The per-task-type table (a Prefect table artifact)."""
    return [
        {
            "task type": t.task_type,
            "traces": t.traces,
            "completion": _pct(t.completion_rate),
            "escalation": _pct(t.escalation_rate),
            "tool errors": _pct(t.tool_error_rate),
            "cost mean": _usd(t.cost_mean),
            "cost p95 (max window)": _usd(t.cost_p95),
            "sampled": t.sampled,
            "quality": "n/a" if t.quality_mean is None else f"{t.quality_mean:.2f}",
            "failure rate": _pct(t.failure_rate),
            "anomalies": sum(a.task_type == t.task_type for a in result.anomalies),
        }
        for t in task_type_totals(result.windows)
    ]


def render_live_summary(result: LiveRunResult) -> str:
    """The Markdown summary (a Prefect artifact, and what a notifier can quote).

    Task types, trace ids, check names and bad records come from the traces: they are escaped.
    """
    state = live_status(result).value
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(result.sampled_by_reason.items())) or "none"
    lines = [
        f"# Live sampling {state}: {escape_markdown(result.source)}",
        "",
        f"Read **{result.read}** traces ({result.bad_records} bad records skipped), "
        f"sampled **{result.sampled}** ({reasons}). Judge: {escape_markdown(result.judge)}. "
        f"Reviews: {result.reviewed} ({result.rejected} rejected); "
        f"{result.review_pending} more needed review and got none.",
    ]
    if result.flow_run_url:
        lines += ["", f"[Flow run]({result.flow_run_url})"]
    lines += ["", f"## Anomalies ({len(result.anomalies)})", ""]
    if not result.anomalies:
        lines.append("None.")
    for a in result.anomalies[:30]:
        lines.append(
            f"- **{escape_markdown(a.task_type)}** `{a.metric}` window {a.window_start:%Y-%m-%d %H:%M}Z: "
            f"{escape_markdown(a.detail)}"
        )
    if len(result.anomalies) > 30:
        lines.append(f"- ... and {len(result.anomalies) - 30} more")
    if result.failing:
        lines += ["", f"## Failing sampled traces (first {len(result.failing)})", ""]
        for s in result.failing:
            failed = ", ".join(v.check for v in s.verdicts if v.status == "failed") or "rejected in review"
            lines.append(
                f"- {code_span(s.trace_id)} ({escape_markdown(s.task_type)}): {escape_markdown(failed)}"
            )
    if result.promoted:
        lines += ["", "## Promoted to regression cases", "", *(f"- {code_span(c)}" for c in result.promoted)]
    if result.bad_record_examples:
        lines += ["", "## Bad records (first ones)", ""]
        lines += [f"- {escape_markdown(p.splitlines()[0])}" for p in result.bad_record_examples]
    return "\n".join(lines) + "\n"
