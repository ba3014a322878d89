"""The inline contract checks a replay runs when an inventory is configured, on hand-built trajectories."""

import pytest

from tests.contract_fixtures import reference_inventory
from trailcheck.checks.base import CheckContext, run_check
from trailcheck.checks.contracts.inline import ArgumentChecker, contract_checks
from trailcheck.models import (
    AssistantMessage,
    Case,
    FailureCategory,
    ToolCall,
    Trajectory,
    UserMessage,
    VerdictStatus,
)

ORDER = {"order_id": "A1001", "customer_id": "C100", "status": "delivered", "total": 42.5, "item": "kettle",
         "delivered_on": "2026-11-10"}  # fmt: skip
CASE = Case(id="c", turns=["Where is A1001?"])


def _trajectory(*calls: ToolCall) -> Trajectory:
    return Trajectory(
        case_id="c",
        steps=[UserMessage(content="hi"), *calls, AssistantMessage(content="ok")],
        final_answer="ok",
    )


async def _verdicts(trajectory: Trajectory) -> dict:
    checks = contract_checks(reference_inventory().inventory)
    ctx = CheckContext(case=CASE, trajectory=trajectory)
    return {v.check: v for v in [await run_check(c, ctx) for c in checks]}


@pytest.mark.anyio
async def test_good_calls_pass_and_failed_calls_are_not_judged() -> None:
    verdicts = await _verdicts(
        _trajectory(
            ToolCall(name="lookup_order", args={"order_id": "A1001"}, result=ORDER, status_code=200),
            ToolCall(
                name="issue_refund",
                args={"order_id": "A1005"},
                result={"error": "down"},
                status_code=503,
                error="payments provider unavailable",
            ),
        )
    )
    assert verdicts["tool_contracts"].status is VerdictStatus.PASSED
    assert verdicts["tool_arguments"].status is VerdictStatus.PASSED


@pytest.mark.anyio
async def test_a_broken_response_fails_at_its_step_as_integration() -> None:
    price_as_text = {**ORDER, "total": "42.50"}
    verdicts = await _verdicts(
        _trajectory(
            ToolCall(name="lookup_order", args={"order_id": "A1001"}, result=ORDER),
            ToolCall(name="lookup_order", args={"order_id": "A1001"}, result=price_as_text),
            ToolCall(name="lookup_account", args={"customer_id": "C100"}, result={"customer_id": "C100"}),
        )
    )
    verdict = verdicts["tool_contracts"]
    assert verdict.status is VerdictStatus.FAILED and verdict.failure_category is FailureCategory.INTEGRATION
    assert verdict.step_index == 2
    assert verdict.reason == (
        "step 2 lookup_order response broke its contract: at $.total: '42.50' is not of type 'number' "
        "(and 1 more: steps 3)"
    )


@pytest.mark.anyio
async def test_bad_arguments_fail_as_tool_call_failures() -> None:
    verdicts = await _verdicts(
        _trajectory(
            ToolCall(name="issue_refund", args={"order_id": "A1001", "amount": -5}, result={}),
            ToolCall(name="delete_account", args={}, result={}),
        )
    )
    verdict = verdicts["tool_arguments"]
    assert (
        verdict.status is VerdictStatus.FAILED
        and verdict.failure_category is FailureCategory.TOOL_CALL_FAILURE
    )
    assert (
        verdict.step_index == 1
        and "at $.amount: -5 is less than or equal to the minimum of 0" in verdict.reason
    )


def test_argument_checker_names_what_is_wrong() -> None:
    checker = ArgumentChecker({t.name: t.parameters for t in reference_inventory().inventory.tools})
    assert checker.problem("lookup_order", {"order_id": "A1001"}) is None
    assert checker.problem("lookup_order", {}) == "lookup_order: 'order_id' is a required property"
    assert checker.problem("lookup_order", {"order_id": "A1001", "verbose": True}) == (
        "lookup_order: Additional properties are not allowed ('verbose' was unexpected) (allowed: order_id)"
    )
    assert checker.problem("refund", {}).startswith("unknown tool 'refund' (known: create_ticket, ")  # type: ignore[union-attr]
    assert ArgumentChecker({"free": None}).problem("free", {"anything": 1}) is None


def test_the_cli_and_the_replay_path_never_import_great_expectations() -> None:
    import subprocess
    import sys

    code = (
        "import sys, trailcheck.cli, trailcheck.tasks.replay, trailcheck.flows.regression, "
        "trailcheck.checks.contracts; "
        "print('great_expectations' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
