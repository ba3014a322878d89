"""Argument matchers and the four tool-call match modes."""

import pytest

from trailcheck.checks.matching import match_arg, match_call, match_tool_calls
from trailcheck.models import ArgMatcher, MatchMode, ToolCall, ToolCallSpec


def m(spec: object) -> ArgMatcher:
    return ArgMatcher.model_validate(spec)


def call(name: str, **args: object) -> ToolCall:
    return ToolCall(name=name, args=args)


def spec(name: str, **args: object) -> ToolCallSpec:
    return ToolCallSpec.model_validate({"name": name, "args": args})


@pytest.mark.parametrize(
    ("matcher", "value", "ok"),
    [
        ("A1001", "A1001", True),
        ("A1001", "A1002", False),
        (1, True, False),  # a bool is not the number 1
        (True, True, True),
        (20, 20.0, True),
        ({"exact": {"a": [1]}}, {"a": [1]}, True),
        ({"exact": None}, None, True),
        ({"regex": r"^A\d{4}$"}, "A1001", True),
        ({"regex": r"^A\d{4}$"}, "B1001", False),
        ({"regex": "x"}, 5, False),
        ({"min": 1, "max": 50}, 42.5, True),
        ({"min": 1, "max": 50}, 50.01, False),
        ({"min": 1}, 0, False),
        ({"max": 10}, "5", False),
        ({"max": 10}, False, False),
        ({"any": True}, {"whatever": 1}, True),
        ({"one_of": ["damaged", "late"]}, "late", True),
        ({"one_of": ["damaged", "late"]}, "other", False),
    ],
)
def test_arg_matchers(matcher: object, value: object, ok: bool) -> None:
    assert (match_arg(m(matcher), value) is None) is ok


def test_missing_argument_fails_unless_optional() -> None:
    assert match_arg(m({"regex": "x"})) == "is missing"
    assert match_arg(m({"regex": "x", "optional": True})) is None
    assert match_arg(m({"any": True})) == "is missing"


@pytest.mark.parametrize(
    "bad",
    [{}, {"regex": "a", "min": 1}, {"min": 5, "max": 1}, {"regex": "("}, {"exact": 1, "any": True}],
)
def test_bad_matchers_are_rejected(bad: dict) -> None:
    with pytest.raises(ValueError):
        m(bad)


def test_match_call_names_the_argument() -> None:
    s = spec("issue_refund", order_id="A1001", amount={"max": 42.5})
    assert match_call(s, call("issue_refund", order_id="A1001", amount=10)) is None
    assert "amount" in (match_call(s, call("issue_refund", order_id="A1001", amount=99)) or "")
    assert "expected issue_refund" in (match_call(s, call("lookup_order", order_id="A1001")) or "")


def test_extra_args_can_be_forbidden() -> None:
    s = ToolCallSpec.model_validate({"name": "f", "args": {"a": 1}, "extra_args": False})
    assert match_call(s, call("f", a=1)) is None
    assert "unexpected argument(s) 'b'" in (match_call(s, call("f", a=1, b=2)) or "")


LOOKUP = call("lookup_order", order_id="A1001")
REFUND = call("issue_refund", order_id="A1001", amount=42.5)
TICKET = call("create_ticket", summary="x")
S_LOOKUP, S_REFUND = spec("lookup_order", order_id="A1001"), spec("issue_refund", order_id="A1001")


@pytest.mark.parametrize(
    ("mode", "calls", "ok"),
    [
        (MatchMode.STRICT, [LOOKUP, REFUND], True),
        (MatchMode.STRICT, [REFUND, LOOKUP], False),
        (MatchMode.STRICT, [LOOKUP], False),
        (MatchMode.STRICT, [LOOKUP, REFUND, TICKET], False),
        (MatchMode.UNORDERED, [REFUND, LOOKUP], True),
        (MatchMode.UNORDERED, [REFUND, LOOKUP, TICKET], False),
        (MatchMode.UNORDERED, [REFUND], False),
        (MatchMode.SUBSET, [LOOKUP], True),
        (MatchMode.SUBSET, [], True),
        (MatchMode.SUBSET, [LOOKUP, TICKET], False),
        (MatchMode.SUPERSET, [TICKET, REFUND, LOOKUP], True),
        (MatchMode.SUPERSET, [LOOKUP, TICKET], False),
    ],
)
def test_match_modes(mode: MatchMode, calls: list[ToolCall], ok: bool) -> None:
    assert match_tool_calls(mode, [S_LOOKUP, S_REFUND], calls).ok is ok


def test_unordered_needs_a_perfect_matching_not_a_greedy_one() -> None:
    # A greedy matcher pairs the loose spec with the first call and then fails the strict one.
    loose = spec("lookup_order", order_id={"any": True})
    tight = spec("lookup_order", order_id="A1001")
    calls = [call("lookup_order", order_id="A1001"), call("lookup_order", order_id="A1002")]
    assert match_tool_calls(MatchMode.UNORDERED, [loose, tight], calls).ok


def test_strict_reason_points_at_the_offending_call() -> None:
    outcome = match_tool_calls(MatchMode.STRICT, [S_LOOKUP, S_REFUND], [REFUND])
    assert not outcome.ok
    assert outcome.call_index == 0
    assert "tool call 1" in outcome.reason
    superset = match_tool_calls(MatchMode.SUPERSET, [S_LOOKUP, S_REFUND], [REFUND])
    assert "lookup_order" in superset.reason and "never called" in superset.reason
