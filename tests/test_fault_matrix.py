"""Expanding a suite into the fault matrix, and the FaultHandled rule, on hand-made trajectories."""

from pathlib import Path

import pytest

from trailcheck.agents.fault_matrix import expand, faulted_case, write_suite
from trailcheck.checks.base import CheckContext
from trailcheck.checks.fault_checks import FaultHandled
from trailcheck.checks.silent_error import silent_error
from trailcheck.checks.tool_failure import tool_call_failure
from trailcheck.loading.suite import load_suite
from trailcheck.models import (
    AssistantMessage,
    FailureCategory,
    FaultKind,
    FaultRecord,
    FaultSpec,
    Suite,
    ToolCall,
    Trajectory,
    UserMessage,
    VerdictStatus,
)

SUITE = Suite.model_validate(
    {
        "name": "s",
        "defaults": {"expectations": {"budgets": {"max_latency_s": 10, "max_tokens": 100}}},
        "cases": [
            {
                "id": "refund",
                "turns": ["Refund A1001"],
                "faults": [{"kind": "slow"}],
                "expectations": {
                    "tool_calls": ["lookup_order", "issue_refund"],
                    "never_call": ["delete_account"],
                    "final_answer": {"contains": ["refund"], "not_contains": ["processed"]},
                    "escalate": False,
                },
            },
            {"id": "hello", "turns": ["hi"]},
        ],
    }
)


def test_a_breaking_fault_keeps_only_what_must_hold_whatever_the_tools_do() -> None:
    case = faulted_case(SUITE.cases[0], "issue_refund", FaultKind.HTTP_500)
    exp = case.expectations
    assert case.id == "refund:issue_refund:http_500" and [f.label() for f in case.faults] == [
        "http_500@issue_refund"
    ]
    assert exp.tool_calls is None and exp.escalate is None and exp.never_call == ["delete_account"]
    assert (
        exp.final_answer is not None
        and exp.final_answer.contains == []
        and exp.final_answer.not_contains == ["processed"]
    )
    assert exp.budgets is not None and exp.budgets.max_latency_s == 10
    assert [c.check for c in exp.custom] == [
        "trailcheck.checks.fault_checks.FaultHandled"
    ] and "fault:http_500" in case.tags


@pytest.mark.parametrize("kind", [FaultKind.SLOW, FaultKind.INJECTION, FaultKind.TIMEOUT])
def test_working_faults_keep_the_expectations_and_held_tools_drop_the_latency_budget(kind: FaultKind) -> None:
    exp = faulted_case(SUITE.cases[0], "lookup_order", kind).expectations
    assert (exp.tool_calls is not None) is (kind is not FaultKind.TIMEOUT)
    assert exp.budgets is not None and exp.budgets.max_tokens == 100
    assert exp.budgets.max_latency_s == (10 if kind is FaultKind.INJECTION else None)


def test_expanded_suite_round_trips_through_yaml(tmp_path: Path) -> None:
    clean = SUITE.model_copy(update={"cases": [c.model_copy(update={"faults": []}) for c in SUITE.cases]})
    matrix = expand(
        clean, {"refund": ["lookup_order", "issue_refund"], "hello": []}, [FaultKind.HTTP_500, FaultKind.SLOW]
    )
    assert [c.id for c in matrix.cases] == [
        "refund:lookup_order:http_500",
        "refund:lookup_order:slow",
        "refund:issue_refund:http_500",
        "refund:issue_refund:slow",
    ]
    assert load_suite(write_suite(matrix, tmp_path / "m.yaml")) == matrix
    with pytest.raises(ValueError, match="nothing to fault"):
        expand(SUITE, {}, [FaultKind.HTTP_500])


def test_a_case_with_faults_of_its_own_is_left_out_of_the_matrix() -> None:
    own = SUITE.cases[0].model_copy(
        update={"faults": [FaultSpec(kind=FaultKind.HTTP_500, tool="lookup_order")]}
    )
    clean = SUITE.cases[1].model_copy(update={"faults": []})
    suite = SUITE.model_copy(update={"cases": [own, clean]})
    matrix = expand(suite, {own.id: ["lookup_order"], clean.id: ["lookup_order"]}, [FaultKind.SLOW])
    assert [c.id for c in matrix.cases] == [f"{clean.id}:lookup_order:slow"]


def judge(answer: str, *calls: ToolCall, escalated: bool = False) -> str:
    steps = [UserMessage(content="refund A1001"), *calls, AssistantMessage(content=answer)]
    trajectory = Trajectory(case_id="c", steps=steps, final_answer=answer, escalated=escalated)
    verdict = FaultHandled().evaluate(CheckContext(case=SUITE.cases[0], trajectory=trajectory))
    assert verdict.passed or verdict.failure_category is FailureCategory.SILENT_ERROR
    return "" if verdict.passed else verdict.reason


BROKEN = ToolCall(
    name="issue_refund", status_code=500, error="HTTP 500", observed=True, fault=FaultRecord(kind="http_500")
)
OK = ToolCall(name="issue_refund", status_code=200, result={"refund_id": "R1"}, observed=True)


def test_fault_handled_passes_recovery_escalation_or_admission_and_fails_a_hidden_failure() -> None:
    assert judge("Your refund is done.", BROKEN, OK) == ""
    assert judge("A colleague will call you.", BROKEN, escalated=True) == ""
    assert judge("I could not complete the refund: the refunds service failed.", BROKEN) == ""
    # silent_error's rule: a 5xx is admitted as a failure, not as something that merely did not happen.
    vague = judge("I could not complete the refund.", BROKEN)
    assert "under the http_500 fault: issue_refund() failed (HTTP 500)" in vague and "empty result" in vague
    assert judge("Your refund is done.") == ""  # no fault hit
    hidden = judge("Your refund for order A1001 has been processed.", BROKEN)
    assert "under the http_500 fault" in hidden and "claims success" in hidden and "processed" in hidden
    unfaulted = BROKEN.model_copy(update={"fault": None})  # the tool's own failures are other checks' ground
    assert judge("Your refund is done.", unfaulted) == ""


LOOKUP_BROKEN = ToolCall(
    name="lookup_order", args={"order_id": "A1004"}, status_code=500, error="HTTP 500", observed=True,
    fault=FaultRecord(kind="http_500"),
)  # fmt: skip


def test_fault_handled_fails_a_write_on_an_order_whose_lookup_the_fault_broke_even_a_turn_later() -> None:
    steps = [
        UserMessage(content="Where is my order A1004?"),
        LOOKUP_BROKEN,
        AssistantMessage(content="I could not look up order A1004 right now (internal server error)."),
        UserMessage(content="Please refund it."),
        ToolCall(
            name="issue_refund", args={"order_id": "A1004"}, status_code=200, result={"refund_id": "R1"}
        ),
        AssistantMessage(content="I have issued a refund for order A1004."),
    ]
    trajectory = Trajectory(case_id="c", steps=steps, final_answer=steps[-1].content)
    handled = FaultHandled().evaluate(CheckContext(case=SUITE.cases[0], trajectory=trajectory))
    assert handled.failure_category is FailureCategory.TOOL_CALL_FAILURE and handled.step_index == 1
    reason = handled.reason
    assert reason.startswith("under the http_500 fault: lookup_order(order_id='A1004') failed at step 1")
    assert "acts on 'A1004'" in reason
    verdict = tool_call_failure(trajectory, None)
    assert verdict.status is VerdictStatus.FAILED and verdict.step_index == 4
    assert silent_error(trajectory, None).status is VerdictStatus.PASSED  # it was admitted in its turn
