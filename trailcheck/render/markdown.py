"""Render a run for people: the Markdown summary (Prefect artifact) and the per-case table rows.

Text that comes from the agent is data: it is escaped so it cannot add Markdown links,
tables, headings or HTML to the artifact.
"""

import re

from trailcheck.models import CaseStatus, FailureOrigin, RunResult

# ':' and '.' break autolinks (https://x.y, www.x.y; GFM renderers such as the Prefect UI's link them),
# '@' e-mail autolinks, '&' entities, '<' '>' HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:@&])")
STATUS_MARK = {
    CaseStatus.PASSED: "✅ passed",
    CaseStatus.FAILED: "❌ failed",
    CaseStatus.ERRORED: "⚠️ errored",
}


def escape_markdown(text: str, limit: int = 300) -> str:
    """One line of untrusted text, safe to put in Markdown (and in a table cell)."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def code_span(text: str, limit: int = 100) -> str:
    """Untrusted text as an inline code span: nothing inside one is Markdown, only a backtick could end it."""
    flat = " ".join(text.replace("`", "'").split())
    return f"`{flat[: limit - 1] + '…' if len(flat) > limit else flat}`"


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _changes(run: RunResult) -> list[str]:
    """pass@1, cost and latency per case against the baseline, with the test used (when known)."""
    comparison = run.comparison
    if comparison is None or comparison.baseline_pass_at_1 is None:
        return []
    cost, was_cost = run.cost_per_case_usd, comparison.baseline_cost_per_case_usd
    latency, was_latency = run.latency_per_case_s, comparison.baseline_latency_per_case_s
    money = "n/a" if cost is None else f"${cost:.5f}"
    was_money = "n/a" if was_cost is None else f"${was_cost:.5f}"
    return [
        f"- pass@1 {_pct(run.pass_at_1)} (was {_pct(comparison.baseline_pass_at_1)}); cost per case {money} "
        f"(was {was_money}); latency per case {latency or 0:.2f} s (was {was_latency or 0:.2f} s)",
        f"- verdict: {comparison.method}, family-wise false-alarm rate {comparison.alpha:g}",
    ]


def render_summary_markdown(run: RunResult, flow_run_url: str | None = None) -> str:
    """The run's summary: verdict, reliability, regressions against the baseline, failing cases."""
    verdict = "PASS" if run.ok else "FAIL"
    lines = [
        f"# {verdict}: suite {code_span(run.suite)} v{escape_markdown(run.suite_version, 40)} "
        f"on agent {code_span(run.agent_version)}",
        "",
        f"- run {code_span(run.run_id)}, {len(run.cases)} cases x {run.trials} trial(s)",
        f"- passed {run.count(CaseStatus.PASSED)}, failed {run.count(CaseStatus.FAILED)}, "
        f"errored {run.count(CaseStatus.ERRORED)}",
        f"- pass@1 {_pct(run.pass_at_1)}; "
        + ", ".join(f"pass^{k} {_pct(v)}" for k, v in sorted(run.pass_hat_k.items())),
    ]
    origins = run.failures_by_origin()
    if any(origins.values()):
        lines.append(
            f"- trials not passing: {origins[FailureOrigin.AGENT]} agent failure(s), "
            f"{origins[FailureOrigin.INFRASTRUCTURE]} infrastructure failure(s)"
        )
    if flow_run_url:
        lines.append(f"- flow run: {flow_run_url}")
    if run.spool is not None:
        state = "still pending in the local spool" if run.spool.pending else "written to the database since"
        lines.append(
            f"- ⚠️ results database failed during the run: {run.spool.spooled} record(s) spooled "
            f"({state}): {escape_markdown(run.spool.reason)}"
        )
    lines += _comparison_lines(run)
    failing = [c for c in run.cases if c.status is not CaseStatus.PASSED]
    if failing:
        lines += [
            "",
            "## Cases not passing",
            "",
            "| case | status | category | reason |",
            "|---|---|---|---|",
        ]
        for case in failing:
            category = case.failure_category.value if case.failure_category else ""
            reason = escape_markdown(case.reason)
            case_id = escape_markdown(case.case_id, 100)
            lines.append(f"| {case_id} | {STATUS_MARK[case.status]} | {category} | {reason} |")
    lines += _injection_lines(run)
    return "\n".join(lines) + "\n"


def _injection_lines(run: RunResult) -> list[str]:
    """Injections the agent followed (failures) and the ones it only saw (warnings), apart."""
    followed = [c for c in run.cases if c.injections_followed]
    seen = [c for c in run.cases if c.injections_seen and not c.injections_followed]
    if not followed and not seen:
        return []
    lines = ["", "## Prompt injections", ""]
    for title, cases, count in (
        ("Followed (the agent acted on them: failures)", followed, "injections_followed"),
        ("Seen, not acted on (warnings)", seen, "injections_seen"),
    ):
        if cases:
            lines += [f"### {title}", ""]
            lines += [
                f"- **{escape_markdown(c.case_id, 100)}** {getattr(c, count)}/{c.trials} trial(s): "
                f"{escape_markdown(c.injection_reason)}"
                for c in cases
            ]
            lines.append("")
    return lines


def _comparison_lines(run: RunResult) -> list[str]:
    """The section on the baseline: regressions with where they diverge, fixed and flaky cases."""
    lines: list[str] = []
    comparison = run.comparison
    if comparison is not None and comparison.error:
        lines += ["", f"## No comparison with baseline {code_span(comparison.baseline_version)}", ""]
        lines.append(escape_markdown(comparison.error))
    elif comparison is not None:
        lines += [
            "",
            f"## Against baseline {code_span(comparison.baseline_version)} "
            f"(run {code_span(comparison.baseline_run_id)})",
        ]
        if not comparison.regressions:
            lines.append("No regressions.")
        for reg in comparison.regressions:
            where = ""
            if reg.divergence is not None:
                d = reg.divergence
                was, now = code_span(d.baseline_step or "nothing"), code_span(d.current_step or "nothing")
                where = f" — diverges at step {d.step_index}: baseline {was}, now {now}"
            category = f" [{reg.failure_category.value}]" if reg.failure_category else ""
            case_id = escape_markdown(reg.case_id, 100)
            lines.append(f"- **{case_id}**{category}: {escape_markdown(reg.reason)}{where}")
        if comparison.fixed:
            lines.append(f"- fixed: {', '.join(escape_markdown(c, 100) for c in comparison.fixed)}")
        for shift in comparison.flaky:
            lines.append(
                f"- flaky, not a regression: {escape_markdown(shift.case_id)} {shift.passes}/{shift.trials} "
                f"(was {shift.baseline_passes}/{shift.baseline_trials}, "
                f"adjusted p={shift.adjusted_p_value:.2g})"
            )
        lines += _changes(run)
    return lines


def case_table_rows(run: RunResult) -> list[dict[str, str | float | int | None]]:
    """One row per case for the Prefect table artifact."""
    return [
        {
            "case": c.case_id,
            "task_type": c.task_type,
            "status": c.status.value,
            "passes": f"{c.passes}/{c.trials}",
            "pass@1": round(c.pass_at_1, 4),
            "category": c.failure_category.value if c.failure_category else "",
            "reason": escape_markdown(c.reason, 200),
            "cost_usd": None if c.cost_usd is None else round(c.cost_usd, 6),
            "latency_s": round(c.latency_s, 3),
        }
        for c in run.cases
    ]
