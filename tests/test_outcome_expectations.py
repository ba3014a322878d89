"""Outcome expectations: effects-only counting, tool scope, reply scope, a normal end, and the
suite-file side of every new field (JSON Schema entry, a file:line load error for misuse)."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from trailcheck.checks import checks_for_case, score_trajectory
from trailcheck.checks.matching import match_tool_calls
from trailcheck.loading.suite import SuiteError, load_suite
from trailcheck.models import (
    AssistantMessage,
    Case,
    EndReason,
    MatchMode,
    Suite,
    ToolCall,
    ToolCallSpec,
    Trajectory,
    UserMessage,
    VerdictStatus,
)
from trailcheck.models.openai_messages import trajectory_from_messages


def _failed(expectations: dict[str, Any], trajectory: Trajectory) -> dict[str, str]:
    case = Case.model_validate({"id": "c", "turns": ["hi"], "expectations": {"checks": [], **expectations}})
    result = asyncio.run(score_trajectory(case, trajectory, checks_for_case(case)))
    return {v.check: v.reason for v in result.verdicts if v.status is not VerdictStatus.PASSED}


def _trajectory(*steps: Any, ended: EndReason = EndReason.NORMAL) -> Trajectory:
    replies = [s.content for s in steps if isinstance(s, AssistantMessage) and s.visible]
    return Trajectory(
        case_id="c", steps=list(steps), final_answer=replies[-1] if replies else None, ended=ended
    )


WRONG_THEN_RIGHT = _trajectory(
    UserMessage(content="refund A1"),
    ToolCall(name="lookup_order", args={"order_id": "A1"}),
    ToolCall(
        name="issue_refund", args={"order_id": "A1", "payment": "p9"}, error="Error: unknown payment p9"
    ),
    ToolCall(name="issue_refund", args={"order_id": "A1", "payment": "p1"}, result={"ok": True}),
    AssistantMessage(content="Refunded A1."),
)
REFUND = {
    "tool_calls": {
        "mode": "unordered",
        "only": ["issue_refund"],
        "calls": [{"name": "issue_refund", "args": {"order_id": "A1", "payment": "p1"}}],
    }
}


def test_a_failed_attempt_counts_by_default_and_not_with_count_succeeded() -> None:
    attempts = _failed({**REFUND, "checks": ["tool_call_failure"]}, WRONG_THEN_RIGHT)
    assert "unexpected tool call 1" in attempts["tool_calls"] and "payment='p9'" in attempts["tool_calls"]
    # The corrected call is what tool_call_failure judges: the refused attempt is no wrong argument.
    assert "tool_call_failure" not in attempts
    assert _failed({**REFUND, "count": "succeeded", "checks": ["tool_call_failure"]}, WRONG_THEN_RIGHT) == {}


def test_an_uncorrected_wrong_call_is_still_a_tool_call_failure() -> None:
    uncorrected = _trajectory(*WRONG_THEN_RIGHT.steps[:3], AssistantMessage(content="Sorry, that failed."))
    failed = _failed({**REFUND, "checks": ["tool_call_failure"]}, uncorrected)
    assert "wrong arguments: issue_refund" in failed["tool_call_failure"]


def test_never_call_and_max_tool_calls_follow_count() -> None:
    refused = _trajectory(ToolCall(name="delete_account", error="Error: not allowed"))
    assert "forbidden" in _failed({"never_call": ["delete_account"]}, refused)["never_call"]
    assert _failed({"never_call": ["delete_account"], "count": "succeeded"}, refused) == {}
    assert _failed({"max_tool_calls": 2, "count": "succeeded"}, WRONG_THEN_RIGHT) == {}
    assert "3 tool calls" in _failed({"max_tool_calls": 2}, WRONG_THEN_RIGHT)["max_tool_calls"]


def test_scope_makes_other_tools_free_and_counts_exact_per_tool() -> None:
    twice = _trajectory(
        ToolCall(name="lookup_order", args={"order_id": "A1"}),
        ToolCall(name="issue_refund", args={"order_id": "A1", "payment": "p1"}),
        ToolCall(name="lookup_order", args={"order_id": "A1"}),
        ToolCall(name="issue_refund", args={"order_id": "A1", "payment": "p1"}),
    )
    by_regex = {"tool_calls": {**REFUND["tool_calls"], "only": None, "tools_matching": "^issue_"}}
    for expectations in (REFUND, by_regex):
        reason = _failed(expectations, twice)["tool_calls"]
        assert "unexpected tool call 2" in reason and "issue_refund" in reason
    assert _failed(REFUND, _trajectory(*twice.steps[:3])) == {}


def test_reply_scope_and_hidden_tool_call_text() -> None:
    messages = [
        {"role": "user", "content": "refund?"},
        {"role": "assistant", "content": "Your refund is $1,250.", "tool_calls": None},
        {"role": "user", "content": "thanks"},
        {
            "role": "assistant",
            "content": "Refund of $99 done",
            "tool_calls": [{"id": "1", "function": {"name": "log_note", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "1", "content": "ok"},
        {"role": "assistant", "content": "Anything else?"},
    ]
    shown = trajectory_from_messages(messages, "c")
    hidden = trajectory_from_messages(messages, "c", tool_call_text_is_reply=False)
    assert [r.content for r in shown.replies][1] == "Refund of $99 done"
    assert [r.content for r in hidden.replies] == ["Your refund is $1,250.", "Anything else?"]
    said = {"contains": ["1250"], "normalize": {"remove": ","}}
    assert "expected '1250'" in _failed({"final_answer": said}, hidden)["final_answer"]
    assert _failed({"final_answer": {**said, "in": "any_reply"}}, hidden) == {}
    ninety_nine = {"final_answer": {"contains": ["$99"], "in": "any_reply"}}
    assert _failed(ninety_nine, shown) == {}
    assert "none says it" in _failed(ninety_nine, hidden)["final_answer"]
    polite = {"final_answer": {"not_contains": ["sorry"], "regex": "\\w", "in": "all_replies"}}
    assert _failed(polite, hidden) == {}
    rude = hidden.model_copy(update={"steps": [*hidden.steps, AssistantMessage(content="Sorry!")]})
    assert "reply 3 of 3: must not say 'sorry'" in _failed(polite, rude)["final_answer"]


def test_completed_needs_a_normal_end() -> None:
    cut = _trajectory(AssistantMessage(content="working on it"), ended=EndReason.STEP_LIMIT)
    assert "cut off at the step limit" in _failed({"completed": True}, cut)["completed"]
    assert _failed({"completed": True}, cut.model_copy(update={"ended": EndReason.NORMAL})) == {}
    assert (
        "truncated"
        in _failed({"completed": True}, cut.model_copy(update={"ended": "truncated"}))["completed"]
    )


def test_unordered_mismatch_names_the_unmatched_call_and_the_closest_candidate() -> None:
    specs = [
        ToolCallSpec.model_validate({"name": "refund", "args": {"order": "A1", "amount": 10}}),
        ToolCallSpec.model_validate({"name": "refund", "args": {"order": "A2", "amount": 20}}),
    ]
    calls = [
        ToolCall(name="refund", args={"order": "A1", "amount": 10}),
        ToolCall(name="lookup", args={}),
        ToolCall(name="refund", args={"order": "A2", "amount": 25}),
    ]
    outcome = match_tool_calls(MatchMode.UNORDERED, specs, calls)
    assert outcome.reason == (
        "expected call not made: refund(order='A2', amount=20); closest is call 3, "
        "tool refund(amount=25, order='A2'): refund argument 'amount' is 25, expected 20"
    )
    assert outcome.call_index == 2


ARG = "      tool_calls:\n        calls:\n          - name: f\n            args:\n              x: "
SUITE = """\
name: s
cases:
  - id: c
    turns: [hi]
    expectations:
{body}
"""


@pytest.mark.parametrize(
    ("body", "line", "says"),
    [
        (
            "      tool_calls: {only: [a], tools_matching: '^b', calls: []}",
            6,
            "either only or tools_matching",
        ),
        ("      tool_calls: {only: [a], calls: [b]}", 6, "outside the scope"),
        ("      tool_calls: {tools_matching: '(', calls: []}", 6, "invalid regular expression"),
        ("      count: some", 6, "'attempts' or 'succeeded'"),
        ("      completed: maybe", 6, "valid boolean"),
        ("      final_answer:\n        in: first", 7, "'last', 'any_reply' or 'all_replies'"),
        ("      final_answer: {contains: x, normalize: fancy}", 6, "unknown normalize preset 'fancy'"),
        (
            ARG + "{exact: 1, extra_keys: false}",
            10,
            "extra_keys applies to a `fields` matcher only",
        ),
        (
            ARG + "{items: [1], order: any}",
            10,
            "'ordered' or 'unordered'",
        ),
        (
            ARG + "{type: decimal}",
            10,
            "'float'",
        ),
        (
            ARG + "{one_of: [1], fields: {}}",
            10,
            "exactly one of",
        ),
    ],
)
def test_misuse_is_a_load_error_with_file_and_line(tmp_path: Path, body: str, line: int, says: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(SUITE.format(body=body))
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    text = str(info.value)
    assert f"{path}:{line}" in text and says in text, text


def test_every_new_field_is_in_the_json_schema() -> None:
    defs = json.loads(json.dumps(Suite.model_json_schema()))["$defs"]
    assert {"count", "completed"} <= set(defs["Expectations"]["properties"])
    assert {"count", "only", "tools_matching"} <= set(defs["ToolCallsExpectation"]["properties"])
    assert {"in", "normalize"} <= set(defs["FinalAnswerExpectation"]["properties"])
    matcher = defs["ArgMatcher"]["properties"]
    assert {"normalize", "type", "fields", "extra_keys", "items", "order", "each", "any_of"} <= set(matcher)
    assert {"case", "whitespace", "remove", "quotes"} <= set(defs["Normalize"]["properties"])
