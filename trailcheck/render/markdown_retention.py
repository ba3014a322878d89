"""The retention curve: pass rate per session length, where it drops, and how people see it.

Agent text in reasons is data: the Markdown artifact escapes it like the run summary does.
"""

from collections import defaultdict

from trailcheck.models import (
    CaseSummary,
    FailureCategory,
    RetentionPoint,
    RetentionReport,
    RunResult,
    SessionPlan,
)
from trailcheck.render.markdown import escape_markdown

BAR_WIDTH = 30


def retention_report(
    run: RunResult, plans: list[SessionPlan], threshold: float, flow_run_url: str | None = None
) -> RetentionReport:
    """Fold the run's case summaries into one point per number of filler turns."""
    by_id: dict[str, CaseSummary] = {c.case_id: c for c in run.cases}
    grouped: defaultdict[int, list[tuple[SessionPlan, CaseSummary]]] = defaultdict(list)
    for plan in plans:
        grouped[plan.fillers].append((plan, by_id[plan.case_id]))
    points = []
    for fillers in sorted(grouped):
        pairs = grouped[fillers]
        failing = next((s for _, s in pairs if s.passes < s.trials), None)
        points.append(
            RetentionPoint(
                fillers=fillers,
                turns=max(p.turns for p, _ in pairs),
                passes=sum(s.passes for _, s in pairs),
                trials=sum(s.trials for _, s in pairs),
                errored=sum(s.errored for _, s in pairs),
                reason=f"{failing.case_id}: {failing.reason}" if failing else "",
            )
        )
    report = RetentionReport(
        suite=run.suite,
        scenarios=list(dict.fromkeys(p.scenario for p in plans)),
        agent_version=run.agent_version,
        run_id=run.run_id,
        flow_run_url=flow_run_url,
        threshold=threshold,
        points=points,
    )
    first = report.first_failing
    if first is not None and first.errored and first.errored == first.trials - first.passes:
        # The agent never answered (down, timed out, garbage): that says nothing about its memory.
        report.failure_category = FailureCategory.INTEGRATION
    return report


def bar(rate: float, width: int = BAR_WIDTH) -> str:
    """`██████████░░░░░` for a pass rate in [0, 1]."""
    full = round(rate * width)
    return "█" * full + "░" * (width - full)


def curve_lines(report: RetentionReport) -> list[str]:
    """The retention curve as text, one line per session length (for the terminal and the artifact)."""
    first = report.first_failing
    lines = []
    for p in report.points:
        mark = "  ◀ starts to fail" if first is not None and p.fillers == first.fillers else ""
        lines.append(f"N={p.fillers:>4} ({p.turns:>4} turns) {bar(p.pass_rate)} {p.pass_rate:>7.1%}{mark}")
    return lines


def verdict_line(report: RetentionReport) -> str:
    """One sentence: where the agent starts to fail, or that it never dropped below the threshold."""
    first = report.first_failing
    longest = report.points[-1]
    if first is None:
        return (
            f"retained: pass rate at or above {report.threshold:.0%} up to {longest.fillers} filler turns "
            f"({longest.turns}-turn sessions)"
        )
    held = [p for p in report.points if p.fillers < first.fillers]
    before = f"; held through N={held[-1].fillers}" if held else ""
    what = "errored" if report.failure_category is FailureCategory.INTEGRATION else "starts to fail"
    return (
        f"{what} at N={first.fillers} filler turns ({first.turns}-turn session): pass rate "
        f"{first.pass_rate:.0%} < {report.threshold:.0%}{before} [{report.failure_category.value}]"
    )


def render_markdown(report: RetentionReport) -> str:
    """The Prefect artifact: verdict, the curve, and a table of lengths with the first failure's reason."""
    lines = [
        f"# Long session: `{report.suite}` on `{report.agent_version}`",
        "",
        f"- **{escape_markdown(verdict_line(report))}**",
        f"- scenarios: {', '.join(f'`{s}`' for s in report.scenarios)}; run `{report.run_id}`",
    ]
    if report.flow_run_url:
        lines.append(f"- flow run: {report.flow_run_url}")
    lines += ["", "```text", *curve_lines(report), "```", ""]
    lines += ["| filler turns | session turns | pass rate | passed | reason |", "|---|---|---|---|---|"]
    for p in report.points:
        lines.append(
            f"| {p.fillers} | {p.turns} | {p.pass_rate:.1%} | {p.passes}/{p.trials} | "
            f"{escape_markdown(p.reason, 200)} |"
        )
    return "\n".join(lines) + "\n"
