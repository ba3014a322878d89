"""The Slack message of a live-sampling run: health verdict, anomalies, failing traces.

The channel sees whether production looks healthy (no anomaly, no rejected output), what was read
and sampled, and each anomaly (task type, metric, value against its baseline, the test); the
failing traces go in the thread. Task types, trace ids and reasons come from production traffic,
so every one of them is escaped.
"""

from trailcheck.analysis.verdict import LiveStatus, live_line, live_status
from trailcheck.models import Block, ChatMessage, ChatReply, LiveRunResult
from trailcheck.render.slack_blocks import (
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

TOP_ANOMALIES = 8
TRACES_PER_REPLY = 10
MAX_REPLIES = 5


def _anomaly_line(result: LiveRunResult, index: int) -> str:
    a = result.anomalies[index]
    when = a.window_start.strftime("%Y-%m-%d %H:%M")
    return (
        f"• *{escape_slack(a.task_type, 80)}* {escape_slack(a.metric, 60)} = {a.value:.4g} "
        f"(baseline {a.baseline:.4g}) in the window from {when}: {escape_slack(a.detail, 200)}"
    )


def _thread(result: LiveRunResult) -> list[ChatReply]:
    replies = []
    for start in range(0, min(len(result.failing), TRACES_PER_REPLY * MAX_REPLIES), TRACES_PER_REPLY):
        lines = []
        for trace in result.failing[start : start + TRACES_PER_REPLY]:
            category = f" [{trace.failure_category.value}]" if trace.failure_category else ""
            reasons = "; ".join(
                f"{v.check}: {v.reason}" for v in trace.verdicts if v.counts_as_failure and v.reason
            )
            lines.append(
                f"❌ `{escape_slack(trace.trace_id, 80)}` ({escape_slack(trace.task_type, 60)}){category}: "
                f"{escape_slack(reasons or 'failed', 300)}"
            )
        text = "\n".join(lines)
        replies.append(ChatReply(text=text, blocks=[section(text)]))
    return replies


def render_live_message(result: LiveRunResult, flow_run_url: str | None = None) -> ChatMessage:
    """The message announcing one live-sampling run (anomalies first, failing traces in the thread).

    The headline agrees with the failure rate: "healthy" only when no sampled trace failed.
    """
    status = live_status(result)
    source = escape_slack(result.source, 120)
    icon = {LiveStatus.HEALTHY: "✅", LiveStatus.FAILING: "⚠️", LiveStatus.NOTHING: "💤"}.get(status, "🚨")
    word = "healthy" if status is LiveStatus.HEALTHY else status.value
    rate = f" ({result.failure_rate:.1%})" if result.failure_rate is not None else ""
    review = (
        f"*Reviewed*\n{result.reviewed} ({result.rejected} rejected, {result.review_pending} pending)"
        if result.reviewed or result.review_pending
        else "*Review*\noff"
    )
    blocks: list[Block] = [
        header(f"{icon} Live sampling {word}: {result.source}"),
        fields(
            f"*Read*\n{result.read:,} traces ({result.bad_records} bad)",
            f"*Sampled*\n{result.sampled:,}",
            f"*Anomalies*\n{len(result.anomalies)}",
            review,
            f"*Failing traces*\n{result.failed} of {result.sampled:,}{rate}",
            f"*Judge*\n{escape_slack(result.judge, 100)}",
        ),
    ]
    if result.anomalies:
        shown = min(len(result.anomalies), TOP_ANOMALIES)
        lines = "\n".join(_anomaly_line(result, i) for i in range(shown))
        more = f"\n… and {len(result.anomalies) - shown} more" if len(result.anomalies) > shown else ""
        blocks += [divider(), section(f"*Anomalies*\n{lines}{more}")]
    if result.promoted:
        blocks.append(
            context(f"Promoted to regression cases: {escape_slack(', '.join(result.promoted), 300)}")
        )
    url = web_url(flow_run_url) or web_url(result.flow_run_url)
    if url:
        blocks.append(link_button("Open the flow run", url, "open-live-flow-run"))
    blocks.append(context(f"source {source} · run {escape_slack(result.run_id, 40)}"))
    text = live_line(result)
    return ChatMessage(
        kind="live",
        subject=result.source,
        text=escape_slack(text, 300),
        blocks=within_limit(blocks, "message shortened"),
        thread=_thread(result),
    )
