"""Argument matchers and tool-call match modes (strict, unordered, subset, superset).

Matching is pure: given the expected specs and the observed calls it says whether they
match and, when not, a reason that names the call and the argument.
"""

import re
from dataclasses import dataclass
from typing import Any

from trailcheck.models import ArgMatcher, MatchMode, ToolCall, ToolCallSpec

_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, but an agent passing `true` where `1` was expected is a wrong argument.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def match_arg(matcher: ArgMatcher, value: Any = _MISSING) -> str | None:
    """None when `value` satisfies `matcher`, else why not. Omit `value` for an absent argument."""
    if value is _MISSING:
        return None if matcher.optional else "is missing"
    kind = matcher.kind
    if kind == "any":
        return None
    if kind == "exact":
        return None if _same(value, matcher.exact) else f"is {value!r}, expected {matcher.exact!r}"
    if kind == "one_of":
        options = matcher.one_of or []
        return None if any(_same(value, o) for o in options) else f"is {value!r}, expected one of {options!r}"
    if kind == "regex":
        if not isinstance(value, str):
            return f"is {value!r}, expected a string matching /{matcher.regex}/"
        return (
            None
            if re.search(matcher.regex or "", value)
            else f"is {value!r}, does not match /{matcher.regex}/"
        )
    if not _is_number(value):
        return f"is {value!r}, expected a number"
    if matcher.min is not None and value < matcher.min:
        return f"is {value!r}, below the minimum {matcher.min:g}"
    if matcher.max is not None and value > matcher.max:
        return f"is {value!r}, above the maximum {matcher.max:g}"
    return None


def match_call(spec: ToolCallSpec, call: ToolCall) -> str | None:
    """None when `call` satisfies `spec`, else the first reason it does not."""
    if call.name != spec.name:
        return f"called {call.name}, expected {spec.name}"
    for arg, matcher in spec.args.items():
        problem = match_arg(matcher, call.args.get(arg, _MISSING))
        if problem:
            return f"{spec.name} argument {arg!r} {problem}"
    if not spec.extra_args:
        unknown = sorted(set(call.args) - set(spec.args))
        if unknown:
            return f"{spec.name} got unexpected argument(s) {', '.join(map(repr, unknown))}"
    return None


def describe_spec(spec: ToolCallSpec) -> str:
    """A short human form of an expected call."""
    return f"{spec.name}({', '.join(spec.args)})" if spec.args else spec.name


@dataclass(frozen=True)
class MatchOutcome:
    """The result of matching a trajectory's tool calls against the expected ones."""

    ok: bool
    reason: str = ""
    call_index: int | None = None  # index into the observed calls of the first offending one


def _max_matching(specs: list[ToolCallSpec], calls: list[ToolCall]) -> dict[int, int]:
    """Maximum bipartite matching spec -> call (Kuhn's algorithm; suites hold a handful of calls)."""
    fits = [[j for j, call in enumerate(calls) if match_call(spec, call) is None] for spec in specs]
    call_to_spec: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in call_to_spec or augment(call_to_spec[j], seen):
                call_to_spec[j] = i
                return True
        return False

    for i in range(len(specs)):
        augment(i, set())
    return {i: j for j, i in call_to_spec.items()}


def _strict(specs: list[ToolCallSpec], calls: list[ToolCall]) -> MatchOutcome:
    for i, (spec, call) in enumerate(zip(specs, calls, strict=False)):
        problem = match_call(spec, call)
        if problem:
            return MatchOutcome(False, f"tool call {i + 1}: {problem}", i)
    if len(calls) > len(specs):
        extra = calls[len(specs)]
        return MatchOutcome(
            False, f"{len(calls)} tool calls, expected {len(specs)}: unexpected {extra.name}", len(specs)
        )
    if len(specs) > len(calls):
        missing = ", ".join(describe_spec(s) for s in specs[len(calls) :])
        return MatchOutcome(False, f"{len(calls)} tool calls, expected {len(specs)}: missing {missing}")
    return MatchOutcome(True)


def _why_unmatched(spec: ToolCallSpec, calls: list[ToolCall]) -> str:
    same_name = [c for c in calls if c.name == spec.name]
    if same_name:
        return match_call(spec, same_name[0]) or describe_spec(spec)
    return f"{describe_spec(spec)} was never called"


def match_tool_calls(mode: MatchMode, specs: list[ToolCallSpec], calls: list[ToolCall]) -> MatchOutcome:
    """Compare observed calls with expected specs under `mode` (see MatchMode)."""
    if mode is MatchMode.STRICT:
        return _strict(specs, calls)
    pairs = _max_matching(specs, calls)
    matched_calls = set(pairs.values())
    unmatched_specs = [s for i, s in enumerate(specs) if i not in pairs]
    unmatched_calls = [j for j in range(len(calls)) if j not in matched_calls]
    need_all_specs = mode in (MatchMode.UNORDERED, MatchMode.SUPERSET)
    need_all_calls = mode in (MatchMode.UNORDERED, MatchMode.SUBSET)
    if need_all_specs and unmatched_specs:
        return MatchOutcome(False, f"expected call not made: {_why_unmatched(unmatched_specs[0], calls)}")
    if need_all_calls and unmatched_calls:
        j = unmatched_calls[0]
        return MatchOutcome(False, f"unexpected tool call {j + 1}: {calls[j].signature()}", j)
    return MatchOutcome(True)
