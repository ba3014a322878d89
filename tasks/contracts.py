"""Prefect tasks of the `contracts` flow: collect tool responses, validate them per tool, record, publish."""

from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from trailcheck import db
from trailcheck.checks.contracts.gx_validate import ContractValidator
from trailcheck.checks.contracts.sources import responses_from_traces
from trailcheck.db.contracts import recorded_tool_responses, save_contract_run
from trailcheck.models.contract import (
    ContractRunResult,
    ContractSuite,
    RecordedCalls,
    ToolContractResult,
    ToolResponse,
)
from trailcheck.render.markdown_contracts import render_contracts_markdown
from trailcheck.tasks.publish import artifact_key

# One GX context per process: building it and registering suites is paid once, not per run.
_VALIDATOR = ContractValidator()


@task(name="collect-tool-responses", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def collect_responses(
    database_url: str | None,
    since: datetime | None,
    until: datetime | None,
    run_ids: list[str] | None = None,
    traces: str | None = None,
) -> RecordedCalls:
    """Responses recorded by replays in the window (unless `database_url` is None), then those in `traces`."""
    found = RecordedCalls()
    if database_url is not None:
        found = recorded_tool_responses(db.get_engine(database_url), since, until, run_ids)
    if traces is not None:
        from_traces = responses_from_traces(traces, since, until)
        found.responses.extend(from_traces.responses)
        found.failed_calls += from_traces.failed_calls
    return found


@task(name="validate-tool-contract", task_run_name="validate-{tool}", cache_policy=NO_CACHE)
def validate_tool(
    tool: str, suite: ContractSuite, responses: list[ToolResponse], owner: str
) -> ToolContractResult:
    """Run one tool's contract suite over its responses in Great Expectations."""
    return _VALIDATOR.validate(tool, suite, responses, owner=owner)


@task(name="record-contract-run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 5])
def record_contract_run(result: ContractRunResult, database_url: str) -> None:
    """Store the run and one row per tool and expectation in the results database."""
    save_contract_run(db.get_engine(database_url), result)


@task(name="publish-contracts-artifact", cache_policy=NO_CACHE)
def publish_contracts(result: ContractRunResult, flow_run_url: str | None = None) -> str:
    """A Markdown artifact keyed by the inventory, so the UI keeps its history; returns the key."""
    key = artifact_key("contracts", result.inventory)
    create_markdown_artifact(
        markdown=render_contracts_markdown(result, flow_run_url),
        key=key,
        description=f"Data contracts of {result.inventory}: {len(result.findings)} broken expectation(s)",
    )
    return key
