"""The Slack message of a `contracts` run: which tool's contract broke, whom to call, what came back.

The channel sees the verdict, how many responses were checked, and each broken expectation with
its tool, the tool's owner and a few unexpected values; every finding, with the responses its
examples came from, is detailed in the thread. Values come from tools, so they are escaped.
"""

import json

from pydantic import JsonValue

from trailcheck.models import Block, ChatMessage, ChatReply
from trailcheck.models.contract import ContractFinding, ContractRunResult
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

TOP_FINDINGS = 5
FINDINGS_PER_REPLY = 10
MAX_REPLIES = 10
EXAMPLES_SHOWN = 3


def _value(value: JsonValue, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{escape_slack(text, limit)}`"


def _finding_line(finding: ContractFinding, with_reason: bool = False) -> str:
    target = finding.expectation + (f"({finding.column})" if finding.column else "")
    owner = f" owner {escape_slack(finding.owner, 120)}" if finding.owner else ""
    count = f", {finding.unexpected_count} unexpected" if finding.unexpected_count is not None else ""
    examples = ", ".join(_value(e) for e in finding.examples[:EXAMPLES_SHOWN])
    line = (
        f"❌ `{escape_slack(finding.tool, 80)}`{owner}: `{escape_slack(target, 200)}` "
        f"[{finding.failure_category.value}]{count}"
    )
    if examples:
        line += f"; e.g. {examples}"
    if with_reason:
        line += f"\n↳ {escape_slack(finding.reason, 1500)}"
        unnamed = [s for s in finding.example_sources[:EXAMPLES_SHOWN] if s not in finding.reason]
        if unnamed:
            line += f"\n↳ from {'; '.join(escape_slack(s, 200) for s in unnamed)}"
    return line


def _window(result: ContractRunResult) -> str:
    if result.window_start is None or result.window_end is None:
        return "all recorded responses"
    fmt = "%Y-%m-%d %H:%M UTC"
    return f"{result.window_start:{fmt}} → {result.window_end:{fmt}}"


def _summary_fields(result: ContractRunResult) -> Block:
    broken = sorted({t.tool for t in result.tools if not t.success})
    items = [
        f"*responses checked*\n{result.responses}",
        f"*tools*\n{len(result.tools) - len(broken)} kept · {len(broken)} broke their contract",
        f"*window*\n{_window(result)}",
        f"*calls not judged*\n{result.failed_calls} (error status or no answer)",
    ]
    if result.untracked_tools:
        names = ", ".join(f"`{escape_slack(n, 60)}`" for n in list(result.untracked_tools)[:10])
        items.append(f"*tools missing from the inventory*\n{names}")
    return fields(*items)


def _thread(findings: list[ContractFinding]) -> list[ChatReply]:
    replies = []
    shown = findings[: FINDINGS_PER_REPLY * MAX_REPLIES]
    for start in range(0, len(shown), FINDINGS_PER_REPLY):
        chunk = shown[start : start + FINDINGS_PER_REPLY]
        replies.append(
            ChatReply(
                text=f"Broken expectations, {start + 1}-{start + len(chunk)} of {len(findings)}",
                blocks=[section(_finding_line(f, with_reason=True)) for f in chunk],
            )
        )
    if len(findings) > len(shown):
        replies[-1].blocks.append(context(f"…and {len(findings) - len(shown)} more in the Prefect UI"))
    return replies


def render_contract_message(result: ContractRunResult, flow_run_url: str | None = None) -> ChatMessage:
    """The message for one `contracts` run; every broken expectation is detailed in the thread."""
    verdict = "PASS" if result.ok else "FAIL"
    icon = "✅" if result.ok else "❌"
    findings = result.findings
    title = f"{icon} {verdict}: contracts of {result.inventory}"
    blocks: list[Block] = [header(title), _summary_fields(result)]
    if findings:
        top = "\n".join(_finding_line(f) for f in findings[:TOP_FINDINGS])
        more = (
            f"\n…and {len(findings) - TOP_FINDINGS} more in the thread"
            if len(findings) > TOP_FINDINGS
            else ""
        )
        blocks += [divider(), section(f"*Broken contracts*\n{top}{more}")]
    blocks.append(
        context(f"contracts run `{result.run_id}`", f"inventory `{escape_slack(result.inventory, 80)}`")
    )
    if url := web_url(flow_run_url):
        blocks.append(link_button("Open the flow run in Prefect", url, "open-flow-run"))
    broken = sorted({f.tool for f in findings})
    text = f"{verdict} contracts of {result.inventory}: {result.responses} response(s) checked, " + (
        f"{len(findings)} broken expectation(s) in {', '.join(broken)}" if broken else "every contract kept"
    )
    return ChatMessage(
        kind="contracts",
        subject=result.inventory,
        text=escape_slack(text, 300),
        blocks=within_limit(blocks, "message cut to Slack's limit")[:MAX_BLOCKS],
        thread=_thread(findings),
    )
