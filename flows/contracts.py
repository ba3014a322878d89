"""The contracts flow: validate the tool responses recorded over a time window against their contracts.

    inventory ─► responses (results DB, traces JSONL) ─► per tool: GX suite ─► results DB · artifact

A broken expectation is a finding of failure category `integration`; the returned
`ContractRunResult` carries the findings, and Slack (when configured) gets them with each broken
tool's owner (trailcheck/render/slack_contracts.py).
"""

import uuid
from datetime import UTC, datetime, timedelta

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from trailcheck import db
from trailcheck.checks.contracts.gx_validate import verify_suites
from trailcheck.loading.inventory import load_inventory
from trailcheck.models.contract import ContractRunResult
from trailcheck.render.slack_contracts import render_contract_message
from trailcheck.tasks.contracts import (
    collect_responses,
    publish_contracts,
    record_contract_run,
    validate_tool,
)
from trailcheck.tasks.notify import notify_slack
from trailcheck.tasks.publish import publish_message_link
from trailcheck.tasks.run_state import real_trigger, tag_flow_run

DEFAULT_WINDOW_HOURS = 24.0


def _run_name() -> str:
    inventory = str(flow_run.parameters.get("inventory", "tools")).rsplit("/", 1)[-1]
    return f"contracts-{inventory.removesuffix('.yaml').removesuffix('.yml')}"


@flow(name="contracts", flow_run_name=_run_name, log_prints=False)
def contracts(
    inventory: str,
    hours: float = DEFAULT_WINDOW_HOURS,
    since: datetime | None = None,
    until: datetime | None = None,
    traces: str | None = None,
    run_ids: list[str] | None = None,
    use_database: bool = True,
    database_url: str | None = None,
    run_id: str | None = None,
    notify: bool = True,
) -> ContractRunResult:
    """Check every tool response recorded in [since, until) against the inventory's contracts.

    inventory: the `tools.yaml` to use. hours: the window when `since` is not given (ending at
    `until`, default now). traces: also read this JSON Lines file of traces. run_ids: only the
    responses of these replay runs. use_database: read replays' responses from the results DB.
    notify: post the result to Slack when Slack is configured (see trailcheck.slack).
    """
    if hours <= 0:
        raise ValueError(f"hours must be positive, got {hours}")
    logger = get_run_logger()
    tag_flow_run([f"trigger:{real_trigger('manual')}"])
    loaded = load_inventory(inventory)
    verify_suites(loaded)
    window_end = until or datetime.now(UTC)
    window_start = since or window_end - timedelta(hours=hours)
    url = db.database_url(database_url)
    started = datetime.now(UTC)
    recorded = collect_responses(url if use_database else None, window_start, window_end, run_ids, traces)
    by_tool = recorded.by_tool()
    results = []
    for tool in loaded.inventory.tools:
        responses = by_tool.pop(tool.name, [])
        results.append(validate_tool(tool.name, loaded.suites[tool.name], responses, tool.owner))
    sources = (["results database " + db.mask_url(url)] if use_database else []) + (
        [traces] if traces else []
    )
    result = ContractRunResult(
        run_id=run_id or uuid.uuid4().hex[:12],
        inventory=loaded.inventory.name,
        started_at=started,
        finished_at=datetime.now(UTC),
        window_start=window_start,
        window_end=window_end,
        sources=sources,
        flow_run_id=str(flow_run.id) if flow_run.id else None,
        tools=results,
        failed_calls=recorded.failed_calls,
        untracked_tools={name: len(rs) for name, rs in sorted(by_tool.items())},
    )
    record_contract_run(result, url)
    publish_contracts(result, flow_run.ui_url)
    if notify:
        # After the run is recorded: Slack's outcome goes in the returned result, never in the findings.
        message = render_contract_message(result, flow_run.ui_url)
        notification = notify_slack(message)
        publish_message_link(message, notification)
        if not notification.skipped:
            result = result.model_copy(update={"notifications": [notification]})
    logger.info(
        "contracts %s: %d responses, %d broken expectation(s)",
        result.run_id,
        result.responses,
        len(result.findings),
    )
    return result
