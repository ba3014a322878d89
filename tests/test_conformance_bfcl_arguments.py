"""Argument checks agree with BFCL's ground truth, over every entry of live_simple, parallel_multiple
and irrelevance (tests/conformance/bfcl, see its README).

A call is valid when the function name is right, every required parameter is present with an
allowed value, and no unknown parameter is given. The argument check under test is the one replays
run (`trailcheck.checks.contracts.inline.ArgumentChecker`, JSON Schema); BFCL's rule is written out separately
(`tests/bfcl.py:bfcl_valid`) as the oracle. For each ground-truth call the test builds valid calls
(first and last allowed values, optional parameters left out) and invalid ones (a wrong function
name, each required parameter dropped, an unknown parameter, each parameter given a disallowed
value), and counts how often the check and the oracle agree.
"""

from collections import Counter
from typing import Any

import jsonschema
import pytest

from tests.bfcl import (
    allowed_schema,
    answers,
    bfcl_valid,
    disallowed,
    first_value,
    questions,
    sample_args,
    to_json_schema,
)
from trailcheck.checks.contracts.inline import ArgumentChecker
from trailcheck.checks.matching import match_tool_calls
from trailcheck.models import MatchMode, ToolCall

Call = tuple[str, dict[str, Any]]


def _variants(name: str, params: dict[str, list[Any]]) -> list[tuple[str, Call]]:
    """(label, call) pairs: valid ones first, then one invalid call per way of being wrong."""
    full = {k: v for k, (present, v) in ((k, first_value(o)) for k, o in params.items()) if present}
    last = {
        k: v for k, (present, v) in ((k, first_value(o, last=True)) for k, o in params.items()) if present
    }
    required_only = {k: v for k, v in full.items() if "" not in params[k]}
    out: list[tuple[str, Call]] = [("valid", (name, full)), ("valid-last", (name, last))]
    out.append(("valid-required-only", (name, required_only)))
    out.append(("wrong-name", (f"{name}_unknown", full)))
    out.append(("unknown-param", (name, {**full, "zz_not_a_param": 1})))
    for param in required_only:
        out.append(("missing-required", (name, {k: v for k, v in full.items() if k != param})))
    for param, options in params.items():
        out.append(("disallowed-value", (name, {**full, param: disallowed(options)})))
    return out


def _contradicts_schema(schema: dict[str, Any], args: dict[str, Any]) -> bool:
    """Whether an argument alone breaks its declared type or enum (the answer contradicts the schema)."""
    declared = schema.get("properties") or {}
    return any(
        name in declared and not jsonschema.Draft202012Validator(declared[name]).is_valid(value)
        for name, value in args.items()
    )


def _agreement(category: str) -> tuple[Counter, list[str], list[str]]:
    """Counts; disagreements the check cannot explain; those where BFCL's answer breaks its own schema."""
    truth = answers(category)
    counts: Counter = Counter()
    unexplained, contradictions = [], []
    for question in questions(category):
        ground_truth = truth[question["id"]]
        functions = {f["name"]: to_json_schema(f["parameters"]) for f in question["function"]}
        # What an inventory knows (each function's parameters) and what the case expects (allowed calls).
        declared = ArgumentChecker(functions)
        branches: dict[str, list[dict[str, Any]]] = {}
        for call in ground_truth:
            for fn, params in call.items():
                branches.setdefault(fn, []).append(allowed_schema(params))
        expected = ArgumentChecker({fn: {"anyOf": b} for fn, b in branches.items()})
        for call in ground_truth:
            for fn, params in call.items():
                for label, (name, args) in _variants(fn, params):
                    oracle = bfcl_valid(name, args, ground_truth, functions)
                    checked = declared.problem(name, args) is None and expected.problem(name, args) is None
                    counts["calls"] += 1
                    counts["valid" if oracle else "invalid"] += 1
                    if checked == oracle:
                        counts["agree"] += 1
                        continue
                    where = f"{question['id']} {label} {name}({args}): BFCL says {oracle}"
                    if oracle and _contradicts_schema(functions[name], args):
                        contradictions.append(where)
                    else:
                        unexplained.append(where)
    return counts, unexplained, contradictions


@pytest.mark.parametrize("category", ["live_simple", "parallel_multiple"])
def test_argument_checks_agree_with_bfcl_ground_truth(category: str) -> None:
    counts, unexplained, contradictions = _agreement(category)
    print(f"\nBFCL {category}: {dict(counts)}, answer breaks its own schema: {len(contradictions)}")
    assert len(questions(category)) == len(answers(category))
    assert counts["valid"] > 500 and counts["invalid"] > 1000
    # Every disagreement is a ground-truth value the function's own schema forbids (None for a string,
    # a value outside its enum): BFCL does not enforce declared enums and types there; the check does.
    assert unexplained == []
    assert counts["agree"] + len(contradictions) == counts["calls"]
    assert len(contradictions) < 0.04 * counts["calls"]


def test_no_call_is_right_for_irrelevance_questions() -> None:
    entries = questions("irrelevance")
    agree = 0
    for question in entries:
        function = question["function"][0]
        schema = to_json_schema(function["parameters"])
        call = ToolCall(name=function["name"], args=sample_args(schema))
        assert ArgumentChecker({function["name"]: schema}).problem(call.name, call.args) is None
        # The call is well formed, and still wrong: the expected trajectory makes no call at all.
        made_one = match_tool_calls(MatchMode.STRICT, [], [call])
        made_none = match_tool_calls(MatchMode.STRICT, [], [])
        agree += (not made_one.ok) and made_none.ok
    print(f"\nBFCL irrelevance: {agree}/{len(entries)} agree")
    assert len(entries) == 240 and agree == len(entries)
