"""Built-in checks, custom checks, and scoring a trajectory."""

import pytest

from tests.custom_checks import Explodes
from trailcheck.checks import (
    Budget,
    CheckContext,
    Escalation,
    FinalAnswer,
    MaxSteps,
    MaxToolCalls,
    NeverCall,
    checks_for_case,
    load_custom_check,
    run_check,
    score_trajectory,
)
from trailcheck.checks.custom import CustomCheckError
from trailcheck.models import (
    AssistantMessage,
    Budgets,
    Case,
    CaseStatus,
    CustomCheckSpec,
    FailureCategory,
    FinalAnswerExpectation,
    TokenUsage,
    ToolCall,
    Trajectory,
    TrajectoryStatus,
    UserMessage,
    VerdictStatus,
)

pytestmark = pytest.mark.anyio

CASE = Case(id="c1", turns=["Refund A1001"])


def traj(answer: str | None = "Done", **kw: object) -> Trajectory:
    steps = kw.pop("steps", [UserMessage(content="Refund A1001"), AssistantMessage(content=answer or "")])
    return Trajectory(case_id="c1", steps=steps, final_answer=answer, **kw)


def ctx(t: Trajectory) -> CheckContext:
    return CheckContext(case=CASE, trajectory=t)


def fa(**spec: object) -> FinalAnswer:
    return FinalAnswer(expectation=FinalAnswerExpectation.model_validate(spec))


@pytest.mark.parametrize(
    ("spec", "answer", "ok"),
    [
        ({"contains": "refund"}, "Your REFUND is done", True),
        ({"contains": "refund", "case_sensitive": True}, "Your REFUND is done", False),
        ({"contains": ["refund", "A1001"]}, "refund done", False),
        ({"not_contains": ["processed"]}, "Your refund has been processed", False),
        ({"regex": r"\$\d+\.\d\d"}, "Refunded $42.50", True),
        ({"regex": r"\$\d+\.\d\d"}, "Refunded", False),
        ({"json_schema": {"type": "object", "required": ["ok"]}}, '{"ok": true}', True),
        ({"json_schema": {"type": "object", "required": ["ok"]}}, '{"nope": 1}', False),
        ({"json_schema": {"type": "object"}}, "not json", False),
    ],
)
async def test_final_answer(spec: dict, answer: str, ok: bool) -> None:
    verdict = await run_check(fa(**spec), ctx(traj(answer)))
    assert verdict.passed is ok
    if not ok:
        assert verdict.failure_category is FailureCategory.QUALITY_DEGRADATION
        assert verdict.reason


async def test_final_answer_missing_fails() -> None:
    verdict = await run_check(fa(contains="x"), ctx(traj(None, steps=[])))
    assert verdict.status is VerdictStatus.FAILED and "no final answer" in verdict.reason


async def test_json_schema_reason_names_the_path() -> None:
    schema = {"type": "object", "properties": {"amount": {"type": "number"}}}
    verdict = await run_check(fa(json_schema=schema), ctx(traj('{"amount": "12"}')))
    assert "amount" in verdict.reason and "number" in verdict.reason


async def test_never_call_points_at_the_step() -> None:
    steps = [UserMessage(content="hi"), ToolCall(name="issue_refund", args={"order_id": "A1"})]
    verdict = await run_check(NeverCall(tools=["issue_refund"]), ctx(traj("ok", steps=steps)))
    assert verdict.status is VerdictStatus.FAILED
    assert verdict.step_index == 1
    assert verdict.failure_category is FailureCategory.GOAL_MISALIGNMENT


async def test_counts_and_escalation() -> None:
    steps = [ToolCall(name="a"), ToolCall(name="b"), AssistantMessage(content="x")]
    t = traj("x", steps=steps, escalated=True)
    assert (await run_check(MaxToolCalls(limit=2), ctx(t))).passed
    assert not (await run_check(MaxToolCalls(limit=1), ctx(t))).passed
    assert not (await run_check(MaxSteps(limit=2), ctx(t))).passed
    assert (await run_check(Escalation(required=True), ctx(t))).passed
    assert "escalated needlessly" in (await run_check(Escalation(required=False), ctx(t))).reason


async def test_budget_over_and_unknown_cost() -> None:
    t = traj("x", tokens=TokenUsage(input=900, output=200), cost_usd=0.02, latency_s=1.5)
    over = await run_check(Budget(budgets=Budgets(max_tokens=1000, max_cost_usd=0.01)), ctx(t))
    assert over.status is VerdictStatus.FAILED
    assert "1100 tokens" in over.reason and "cost" in over.reason
    assert over.failure_category is FailureCategory.COST
    skipped = await run_check(Budget(budgets=Budgets(max_cost_usd=0.01)), ctx(traj("x")))
    assert skipped.status is VerdictStatus.SKIPPED and "no cost" in skipped.reason


async def test_a_crashing_check_is_recorded_not_raised() -> None:
    verdict = await run_check(Explodes(), ctx(traj()))
    assert verdict.status is VerdictStatus.ERRORED
    assert verdict.check == "Explodes"
    assert "RuntimeError: boom" in verdict.reason


def test_custom_check_loading_errors() -> None:
    check = load_custom_check(
        CustomCheckSpec(check="tests.custom_checks.MentionsCustomerName", args={"customer": "Ada"})
    )
    assert check.name == "mentions_customer_name"
    with pytest.raises(CustomCheckError, match="cannot import module"):
        load_custom_check(CustomCheckSpec(check="no_such_pkg.Check"))
    with pytest.raises(CustomCheckError, match="has no class"):
        load_custom_check(CustomCheckSpec(check="tests.custom_checks.Missing"))
    with pytest.raises(CustomCheckError, match="evaluate"):
        load_custom_check(CustomCheckSpec(check="tests.custom_checks.NotACheck"))
    with pytest.raises(CustomCheckError, match="cannot build"):
        load_custom_check(CustomCheckSpec(check="tests.custom_checks.MentionsCustomerName", args={"x": 1}))


async def test_score_runs_every_planned_check_and_errored_trajectories_never_pass() -> None:
    case = Case.model_validate(
        {
            "id": "c1",
            "turns": ["Refund A1001"],
            "expectations": {
                "tool_calls": ["lookup_order", "issue_refund"],
                "final_answer": {"contains": "refund"},
                "escalate": False,
                "custom": [
                    {"check": "tests.custom_checks.MentionsCustomerName", "args": {"customer": "Ada"}}
                ],
                "checks": [],  # no trace checks: those are tested in test_trace_checks.py
            },
        }
    )
    checks = checks_for_case(case)
    assert [c.name for c in checks] == ["tool_calls", "final_answer", "escalation", "mentions_customer_name"]
    steps = [ToolCall(name="lookup_order"), ToolCall(name="issue_refund"), AssistantMessage(content="x")]
    good = await score_trajectory(case, traj("Ada, your refund is done", steps=steps), checks)
    assert good.status is CaseStatus.PASSED and len(good.verdicts) == 4
    bad = await score_trajectory(case, traj("Your refund is done", steps=steps[1:]), checks)
    assert bad.status is CaseStatus.FAILED
    assert bad.reason.startswith("tool_calls:")
    errored = await score_trajectory(
        case, traj(None, steps=[], status=TrajectoryStatus.TIMEOUT, error="no reply in 30s"), checks
    )
    assert errored.status is CaseStatus.ERRORED and errored.verdicts == []
    assert "timeout" in errored.reason and "30s" in errored.reason


def test_a_suite_naming_the_old_checks_path_still_loads_and_is_told_the_new_one(caplog) -> None:
    from trailcheck.checks.forbidden_calls import ForbiddenCalls

    with caplog.at_level("WARNING"):
        check = load_custom_check(
            CustomCheckSpec(check="checks.forbidden_calls.ForbiddenCalls", args={"calls": [{"name": "x"}]})
        )
    assert isinstance(check, ForbiddenCalls)
    assert "trailcheck.checks.forbidden_calls.ForbiddenCalls" in caplog.text
