"""The `bfcl` normalize preset and strict types reproduce BFCL's AST checker (tests/conformance/bfcl).

Reference: gorilla, berkeley-function-call-leaderboard/bfcl_eval/eval_checker/ast_eval/ast_checker.py.
Its rules for Python calls: strings compare after `standardize_string` (spaces and , . / - _ * ^
dropped, lower-cased, ' read as "), also inside lists and dict values; a float parameter takes an
int, an integer parameter does not take a float, an array's elements must be of its item type; dict
values are checked per key (unknown keys refused, keys allowed "" may be left out); a list of dicts
element by element in order; "" among the allowed values makes a parameter optional; a parameter
the answer does not list is refused.

Each rule has its own test below on a trailcheck matcher, and then every possible answer of
live_simple and parallel_multiple is turned into an expected call (tests/bfcl.py: expected_call)
and probed with calls the checker accepts and refuses; trailcheck must agree with the checker
(tests/bfcl.py: checker_valid, the rules written out) on every one.
"""

from collections import Counter
from typing import Any

import pytest

from tests.bfcl import (
    answers,
    checker_valid,
    disallowed,
    expected_call,
    first_value,
    questions,
)
from trailcheck.checks.matching import match_arg, match_call
from trailcheck.models import ArgMatcher, ToolCall, ToolCallSpec


def _ok(matcher: dict[str, Any], value: Any) -> bool:
    return match_arg(ArgMatcher.model_validate(matcher), value) is None


@pytest.mark.parametrize(
    ("given", "allowed", "ok"),
    [
        ("Painting", "painting", True),  # case
        ("4x + 7", "4x+7", True),  # spaces
        ("x^2", "x**2", True),  # ^ and * dropped
        ("April 1, 2024", "April 1 2024", True),  # commas
        ("new-york_city.ny/us", "newyorkcityny us", True),  # - _ . / and spaces
        ("{'a': 1}", '{"a": 1}', True),  # quote style
        ("x+2", "x-2", False),  # + is not in the set
        ("tab\tsep", "tabsep", False),  # only spaces, not other whitespace
        ("Paris", "London", False),
    ],
)
def test_bfcl_string_rule(given: str, allowed: str, ok: bool) -> None:
    assert _ok({"one_of": [allowed], "normalize": "bfcl"}, given) is ok
    assert _ok({"exact": allowed, "normalize": "bfcl"}, given) is ok
    assert _ok({"one_of": [allowed]}, given) is (given == allowed)  # exact without the preset


def test_bfcl_strings_inside_lists_and_dicts() -> None:
    assert _ok({"exact": ["New York", "LA"], "normalize": "bfcl"}, ["new york", "la"])
    assert not _ok({"exact": ["New York", "LA"], "normalize": "bfcl"}, ["la", "new york"])  # order kept
    matcher = {"fields": {"city": {"one_of": ["San Francisco"]}}, "extra_keys": False, "normalize": "bfcl"}
    assert _ok(matcher, {"city": "san francisco"})
    assert not _ok(matcher, {"city": "san francisco", "zip": "94110"})


@pytest.mark.parametrize(
    ("matcher", "value", "ok"),
    [
        ({"type": "number", "one_of": [5.0]}, 5, True),  # a float parameter takes an int
        ({"type": "float", "one_of": [5.0]}, 5, False),  # strict float does not
        ({"type": "integer", "one_of": [5]}, 5.0, False),  # an integer parameter takes no float
        ({"type": "integer", "one_of": [1]}, True, False),  # nor a bool
        ({"items": [{"exact": 1.5, "type": "float"}, {"exact": 2.0, "type": "float"}]}, [1.5, 2], False),
        ({"items": [{"exact": 1.5, "type": "float"}, {"exact": 2.0, "type": "float"}]}, [1.5, 2.0], True),
        ({"each": {"type": "integer"}}, [1, 2, 3], True),
        ({"each": {"type": "integer"}}, [1, 2.5], False),
        ({"type": "string"}, "x", True),
    ],
)
def test_strict_types(matcher: dict[str, Any], value: Any, ok: bool) -> None:
    assert _ok(matcher, value) is ok


def test_type_mismatch_message_names_both_types() -> None:
    problem = match_arg(ArgMatcher.model_validate({"type": "float", "each": {"type": "float"}}), [1])
    assert problem == "is [1] (array), expected type float"
    problem = match_arg(ArgMatcher.model_validate({"each": {"type": "float"}}), [1.0, 2])
    assert problem == "element 2 is 2 (integer), expected type float"


def test_optional_and_must_be_absent() -> None:
    spec = ToolCallSpec.model_validate(
        {
            "name": "f",
            "args": {"unit": {"one_of": ["c"], "optional": True}, "x": {"one_of": [], "optional": True}},
        }
    )
    assert match_call(spec, ToolCall(name="f", args={})) is None
    assert match_call(spec, ToolCall(name="f", args={"unit": "c"})) is None
    assert match_call(spec, ToolCall(name="f", args={"x": 1})) == "f argument 'x' is 1, must be absent"


def test_dict_value_per_key_with_optional_keys() -> None:
    matcher = {
        "fields": {"a": {"one_of": [1, 2]}, "b": {"one_of": ["x"], "optional": True}},
        "extra_keys": False,
    }
    assert _ok(matcher, {"a": 2}) and _ok(matcher, {"a": 1, "b": "x"})
    assert not _ok(matcher, {"b": "x"})  # a is required
    assert not _ok(matcher, {"a": 1, "c": 0})  # unknown key
    assert _ok({**matcher, "extra_keys": True}, {"a": 1, "c": 0})


def test_list_elements_ordered_unordered() -> None:
    items = [{"fields": {"n": {"exact": "a"}}}, {"fields": {"n": {"exact": "b"}}}]
    assert _ok({"items": items}, [{"n": "a", "p": 1}, {"n": "b"}])
    assert not _ok({"items": items}, [{"n": "b"}, {"n": "a"}])
    assert _ok({"items": items, "order": "unordered"}, [{"n": "b"}, {"n": "a"}])
    assert not _ok({"items": items, "order": "unordered"}, [{"n": "a"}, {"n": "a"}])


def _call_variants(params: dict[str, list[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Calls the checker accepts and refuses: allowed values re-spelled, retyped, dropped, added."""
    full = {k: v for k, (present, v) in ((k, first_value(o)) for k, o in params.items()) if present}
    out: list[tuple[str, dict[str, Any]]] = [("as-given", full)]
    out.append(("required-only", {k: v for k, v in full.items() if "" not in params[k]}))
    out.append(("unknown-param", {**full, "zz_not_a_param": 1}))
    for name, value in full.items():
        out.append((f"{name}:dropped", {k: v for k, v in full.items() if k != name}))
        out.append((f"{name}:disallowed", {**full, name: disallowed(params[name])}))
        for label, changed in _respelled(value):
            out.append((f"{name}:{label}", {**full, name: changed}))
    return out


def _respelled(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, str):
        return [
            ("upper", value.upper()),
            ("spaced", value.replace(",", ", ").replace(" ", "  ")),
            ("unspaced", value.replace(" ", "")),
            ("dashed", value.replace(" ", "-")),
            ("quoted", value.replace('"', "'")),
            ("plus", value + "+"),
        ]
    if isinstance(value, bool):
        return [("as-int", int(value))]
    if isinstance(value, float):
        return [("as-int", int(value))] if value == int(value) else [("rounded", round(value))]
    if isinstance(value, int):
        return [("as-float", float(value))]
    if isinstance(value, list):
        out: list[tuple[str, Any]] = [("reversed", value[::-1])] if len(value) > 1 else []
        if any(isinstance(v, float) and v == int(v) for v in value):
            out.append(
                ("int-elements", [int(v) if isinstance(v, float) and v == int(v) else v for v in value])
            )
        if any(isinstance(v, str) for v in value):
            out.append(("upper-elements", [v.upper() if isinstance(v, str) else v for v in value]))
        return out
    if isinstance(value, dict):
        return [("extra-key", {**value, "zz_key": 1})] + [
            (f"{k}:{label}", {**value, k: v}) for k, inner in value.items() for label, v in _respelled(inner)
        ]
    return []


def _bool_as_number(args: dict[str, Any], params: dict[str, list[Any]]) -> bool:
    """A dict value where the answer has a bool and the call a number (or back): dict_checker
    compares them with Python's ==, so 0 passes for False; trailcheck never equates a bool and
    a number (`true` where `1` was meant is a wrong argument)."""
    for name, value in args.items():
        for option in params.get(name, []):
            if isinstance(value, dict) and isinstance(option, dict):
                for key, inner in value.items():
                    allowed = option.get(key, [])
                    if any(isinstance(a, bool) != isinstance(inner, bool) and a == inner for a in allowed):
                        return True
    return False


def _agreement(category: str, preset: str = "bfcl") -> tuple[Counter, list[str]]:
    truth = answers(category)
    counts: Counter = Counter()
    disagreements = []
    for question in questions(category):
        functions = {f["name"]: f for f in question["function"]}
        for call in truth[question["id"]]:
            for fn, params in call.items():
                spec = ToolCallSpec.model_validate(expected_call(fn, params, functions[fn], preset))
                for label, args in _call_variants(params):
                    oracle = checker_valid(args, params, functions[fn])
                    ours = match_call(spec, ToolCall(name=fn, args=args)) is None
                    counts["calls"] += 1
                    counts["accepted" if oracle else "refused"] += 1
                    counts["agree"] += ours == oracle
                    if ours != oracle and _bool_as_number(args, params):
                        counts["bool-as-number"] += 1
                    elif ours != oracle:
                        disagreements.append(f"{question['id']} {label}: {args} checker={oracle}")
    return counts, disagreements


@pytest.mark.parametrize("category", ["live_simple", "parallel_multiple"])
def test_possible_answers_agree_with_the_checker(category: str) -> None:
    counts, disagreements = _agreement(category)
    print(f"\nBFCL {category} (bfcl preset): {dict(counts)}")
    for line in disagreements[:20]:
        print("  ", line)
    assert counts["accepted"] > 1000 and counts["refused"] > 1000
    # The one deliberate difference: the checker takes 0 for False inside a dict value.
    assert disagreements == []
    assert counts["agree"] + counts["bool-as-number"] == counts["calls"]


def test_without_the_preset_re_spelled_strings_are_refused() -> None:
    counts, disagreements = _agreement("live_simple", preset="none")
    print(f"\nBFCL live_simple (normalize: none): {dict(counts)}")
    assert len(disagreements) > 500
    assert all(
        ":upper" in d or ":spaced" in d or ":unspaced" in d or ":dashed" in d or ":quoted" in d
        for d in disagreements
    )
