"""The Slack message of a regression run: verdict, reliability against the baseline, what failed.

The channel sees the verdict, pass@1 and pass^k with their change against the baseline, cost
and latency per case, the top failing cases and a button to the Prefect flow run; every case
that did not pass is detailed in the thread, so the channel stays readable.
"""

from trailcheck.models import Block, CaseStatus, CaseSummary, ChatMessage, ChatReply, RunResult
from trailcheck.render.slack_blocks import (
    MAX_BLOCKS,
    context,
    divider,
    escape_slack,
    fields,
    header,
    link_button,
    section,
    web_url,
    within_limit,
)

TOP_FAILING = 5
CASES_PER_REPLY = 10
MAX_REPLIES = 10
_MARK = {CaseStatus.PASSED: "✅", CaseStatus.FAILED: "❌", CaseStatus.ERRORED: "⚠️"}


def _points(now: float, before: float | None) -> str:
    if before is None:
        return ""
    delta = (now - before) * 100
    return f" ({delta:+.1f} pts)" if abs(delta) >= 0.05 else " (±0)"


def _relative(now: float | None, before: float | None) -> str:
    if now is None or before is None or before == 0:
        return ""
    return f" ({(now - before) / before:+.0%})"


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.5f}"


def _verdict(run: RunResult) -> str:
    return "PASS" if run.ok else "FAIL"


def _failing_in_order(run: RunResult) -> list[CaseSummary]:
    """Blocking cases first (regressions first among them), then the tolerated flaky ones."""
    regressed = {r.case_id for r in run.comparison.regressions} if run.comparison else set()
    blocking = {c.case_id for c in run.blocking_cases()}
    failing = [c for c in run.cases if c.status is not CaseStatus.PASSED]
    return sorted(failing, key=lambda c: (c.case_id not in regressed, c.case_id not in blocking))


def _case_line(case: CaseSummary, run: RunResult, reason_limit: int, with_cost: bool = False) -> str:
    category = f" [{case.failure_category.value}]" if case.failure_category else ""
    flaky = run.comparison is not None and any(f.case_id == case.case_id for f in run.comparison.flaky)
    note = " _flaky, not a significant drop_" if flaky else ""
    reason = escape_slack(case.reason or "no reason recorded", reason_limit)
    cost = f", {_money(case.cost_usd)} a trial" if with_cost and case.cost_usd is not None else ""
    return (
        f"{_MARK[case.status]} `{escape_slack(case.case_id, 80)}`{category} "
        f"{case.passes}/{case.trials} passed{cost}{note}: {reason}"
    )


def _injection_section(run: RunResult) -> Block | None:
    """Followed injections (failures) apart from the ones the agent only saw (warnings)."""
    followed = [c for c in run.cases if c.injections_followed]
    seen = [c for c in run.cases if c.injections_seen and not c.injections_followed]
    if not followed and not seen:
        return None

    def line(case: CaseSummary, count: int) -> str:
        reason = escape_slack(case.injection_reason or "no reason recorded", 300)
        return f"`{escape_slack(case.case_id, 80)}` {count}/{case.trials} trial(s): {reason}"

    text = "*Prompt injections*"
    if followed:
        text += "\n🚨 *followed* (the agent acted on them: failures)\n" + "\n".join(
            line(c, c.injections_followed) for c in followed[:TOP_FAILING]
        )
    if seen:
        text += "\n👀 *seen, not acted on* (warnings)\n" + "\n".join(
            line(c, c.injections_seen) for c in seen[:TOP_FAILING]
        )
    return section(text)


def _summary_fields(run: RunResult) -> Block:
    comparison = run.comparison
    k = max(run.pass_hat_k) if run.pass_hat_k else 1
    before_hat = comparison.baseline_pass_hat_k.get(k) if comparison else None
    before_at_1 = comparison.baseline_pass_at_1 if comparison else None
    cost, latency = run.cost_per_case_usd, run.latency_per_case_s
    items = [
        f"*pass@1*\n{run.pass_at_1:.1%}{_points(run.pass_at_1, before_at_1)}",
        f"*pass^{k}*\n{run.pass_hat_k.get(k, 0.0):.1%}{_points(run.pass_hat_k.get(k, 0.0), before_hat)}",
        f"*cases*\n{run.count(CaseStatus.PASSED)} passed · {run.count(CaseStatus.FAILED)} failed · "
        f"{run.count(CaseStatus.ERRORED)} errored",
        f"*cost per case*\n{_money(cost)}"
        + (_relative(cost, comparison.baseline_cost_per_case_usd) if comparison else ""),
        "*latency per case*\n"
        + ("n/a" if latency is None else f"{latency:.2f} s")
        + (_relative(latency, comparison.baseline_latency_per_case_s) if comparison else ""),
    ]
    if comparison is not None:
        items.append(
            f"*against `{escape_slack(comparison.baseline_version, 80)}`*\n"
            f"{len(comparison.regressions)} regressed · {len(comparison.fixed)} fixed · "
            f"{len(comparison.flaky)} flaky (alpha {comparison.alpha:g}, Holm)"
        )
    else:
        items.append("*baseline*\nnone yet: every case must pass")
    return fields(*items)


def _thread(run: RunResult, failing: list[CaseSummary]) -> list[ChatReply]:
    replies = []
    shown = failing[: CASES_PER_REPLY * MAX_REPLIES]
    regressions = run.comparison.regressions if run.comparison else []
    divergence = {r.case_id: r.divergence for r in regressions if r.divergence}
    for start in range(0, len(shown), CASES_PER_REPLY):
        chunk = shown[start : start + CASES_PER_REPLY]
        blocks: list[Block] = []
        for case in chunk:
            text = _case_line(case, run, 1500, with_cost=True)
            d = divergence.get(case.case_id)
            if d is not None:
                was = escape_slack(d.baseline_step or "nothing", 200)
                now = escape_slack(d.current_step or "nothing", 200)
                text += f"\n↳ diverges at step {d.step_index}: was `{was}`, now `{now}`"
            blocks.append(section(text))
        end = start + len(chunk)
        replies.append(
            ChatReply(text=f"Cases not passing, {start + 1}-{end} of {len(failing)}", blocks=blocks)
        )
    if len(failing) > len(shown):
        replies[-1].blocks.append(context(f"…and {len(failing) - len(shown)} more in the Prefect UI"))
    return replies


def render_run_message(run: RunResult, flow_run_url: str | None = None) -> ChatMessage:
    """The message for one regression run; its failures go in the thread."""
    verdict = _verdict(run)
    icon = "✅" if run.ok else "❌"
    title = f"{icon} {verdict}: {run.suite} v{run.suite_version} on {run.agent_version}"
    failing = _failing_in_order(run)
    blocks: list[Block] = [header(title), _summary_fields(run)]
    if failing:
        top = "\n".join(_case_line(c, run, 300) for c in failing[:TOP_FAILING])
        more = f"\n…and {len(failing) - TOP_FAILING} more in the thread" if len(failing) > TOP_FAILING else ""
        blocks += [divider(), section(f"*Top failing cases*\n{top}{more}")]
    injections = _injection_section(run)
    if injections is not None:
        blocks += [divider(), injections]
    labels = [f"{escape_slack(k, 40)}: `{escape_slack(v, 80)}`" for k, v in sorted(run.labels.items())]
    blocks.append(context(f"run `{run.run_id}`", *labels[:8]))
    if url := web_url(flow_run_url):
        blocks.append(link_button("Open the flow run in Prefect", url, "open-flow-run"))
    regressions = len(run.comparison.regressions) if run.comparison else 0
    text = (
        f"{verdict} {run.suite} on {run.agent_version}: pass@1 {run.pass_at_1:.1%}, "
        f"{len(failing)} case(s) not passing, {regressions} regression(s)"
    )
    return ChatMessage(
        kind="regression",
        subject=run.suite,
        text=escape_slack(text, 300),
        blocks=within_limit(blocks, "message cut to Slack's limit")[:MAX_BLOCKS],
        thread=_thread(run, failing),
    )
