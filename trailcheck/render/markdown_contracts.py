"""Render a contracts run for people: the Markdown of its Prefect artifact.

Tool names, values and sources come from recorded responses: they are escaped, so a response
cannot add links, tables or HTML to the artifact.
"""

from trailcheck.models.contract import ContractRunResult
from trailcheck.render.markdown import code_span, escape_markdown


def _when(result: ContractRunResult) -> str:
    start = result.window_start.isoformat(timespec="minutes") if result.window_start else "the beginning"
    end = result.window_end.isoformat(timespec="minutes") if result.window_end else "now"
    return f"{start} to {end}"


def render_contracts_markdown(result: ContractRunResult, flow_run_url: str | None = None) -> str:
    """Per tool: expectations passed and failed; per broken expectation: counts, examples, where from."""
    verdict = "PASS" if result.ok else "FAIL"
    findings = result.findings
    lines = [
        f"# {verdict}: data contracts of `{result.inventory}`",
        "",
        f"- run `{result.run_id}`, responses recorded {_when(result)}",
        f"- {result.responses} responses of {len(result.tools)} tools checked; "
        f"{len(findings)} broken expectation(s) (failure category `integration`)",
    ]
    if result.sources:
        lines.append(f"- read from: {', '.join(code_span(s) for s in result.sources)}")
    if result.failed_calls:
        lines.append(f"- {result.failed_calls} failed call(s) carried no response to check")
    if result.untracked_tools:
        untracked = ", ".join(f"{code_span(k)} ({v})" for k, v in sorted(result.untracked_tools.items()))
        lines.append(f"- responses of tools missing from the inventory: {untracked}")
    if flow_run_url:
        lines.append(f"- flow run: {flow_run_url}")
    lines += ["", "| tool | owner | responses | rows | passed | failed |", "|---|---|---|---|---|---|"]
    for tool in result.tools:
        mark = "⚪" if not tool.responses else "✅" if tool.success else "❌"
        lines.append(
            f"| {mark} {escape_markdown(tool.tool)} | {escape_markdown(tool.owner)} | {tool.responses} "
            f"| {tool.rows} | {tool.passed} | {tool.failed} |"
        )
    if findings:
        lines += ["", "## Broken expectations", ""]
        for f in findings:
            where = f" — first from {code_span(f.example_sources[0])}" if f.example_sources else ""
            lines.append(f"- **{escape_markdown(f.tool)}**: {escape_markdown(f.reason)}{where}")
    return "\n".join(lines) + "\n"
