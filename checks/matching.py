"""Argument matchers and tool-call match modes (strict, unordered, subset, superset).

Matching is pure: given the expected specs and the observed calls it says whether they
match and, when not, a reason that names the call and the argument.
"""

import re
from dataclasses import dataclass
from typing import Any

from trailcheck.models import (
    ArgMatcher,
    CallCount,
    MatchMode,
    Normalize,
    ToolCall,
    ToolCallsExpectation,
    ToolCallSpec,
    ValueType,
)

_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    # True == 1 in Python, but an agent passing `true` where `1` was expected is a wrong argument.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _normalized(value: Any, normalize: Normalize | None) -> Any:
    """`value` with every string in it (nested in lists and mapping values too) normalised."""
    if normalize is None:
        return value
    if isinstance(value, str):
        return normalize.apply(value)
    if isinstance(value, list):
        return [_normalized(v, normalize) for v in value]
    if isinstance(value, dict):
        return {k: _normalized(v, normalize) for k, v in value.items()}
    return value


_TYPE_TESTS = {
    ValueType.STRING: lambda v: isinstance(v, str),
    ValueType.INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
    ValueType.FLOAT: lambda v: isinstance(v, float),
    ValueType.NUMBER: _is_number,
    ValueType.BOOLEAN: lambda v: isinstance(v, bool),
    ValueType.ARRAY: lambda v: isinstance(v, list),
    ValueType.OBJECT: lambda v: isinstance(v, dict),
    ValueType.NULL: lambda v: v is None,
}


def _json_type(value: Any) -> str:
    for kind in (ValueType.BOOLEAN, ValueType.INTEGER, ValueType.FLOAT, ValueType.STRING):
        if _TYPE_TESTS[kind](value):
            return kind.value
    return "array" if isinstance(value, list) else "object" if isinstance(value, dict) else "null"


def match_arg(matcher: ArgMatcher, value: Any = _MISSING, normalize: Normalize | None = None) -> str | None:
    """None when `value` satisfies `matcher`, else why not. Omit `value` for an absent argument.

    `normalize` is inherited from an enclosing matcher; the matcher's own setting wins.
    """
    if value is _MISSING:
        return None if matcher.optional else "is missing"
    norm = matcher.normalize or normalize
    if matcher.type is not None and not _TYPE_TESTS[matcher.type](value):
        return f"is {value!r} ({_json_type(value)}), expected type {matcher.type.value}"
    kind = matcher.kind
    if kind in ("any", "type"):
        return None
    if kind == "exact":
        ok = _same(_normalized(value, norm), _normalized(matcher.exact, norm))
        return None if ok else f"is {value!r}, expected {matcher.exact!r}"
    if kind == "one_of":
        return _one_of(matcher.one_of or [], value, norm)
    if kind == "regex":
        return _regex(matcher.regex or "", value, norm)
    if kind == "any_of":
        problems = [match_arg(m, value, norm) for m in matcher.any_of or []]
        return None if not all(problems) else f"matches none of {len(problems)} alternatives ({problems[0]})"
    if kind == "fields":
        return _fields(matcher, value, norm)
    if kind in ("items", "each"):
        return _elements(matcher, value, norm)
    return _range(matcher, value)


def _regex(pattern: str, value: Any, norm: Normalize | None) -> str | None:
    if not isinstance(value, str):
        return f"is {value!r}, expected a string matching /{pattern}/"
    return (
        None if re.search(pattern, _normalized(value, norm)) else f"is {value!r}, does not match /{pattern}/"
    )


def _range(matcher: ArgMatcher, value: Any) -> str | None:
    if not _is_number(value):
        return f"is {value!r}, expected a number"
    if matcher.min is not None and value < matcher.min:
        return f"is {value!r}, below the minimum {matcher.min:g}"
    if matcher.max is not None and value > matcher.max:
        return f"is {value!r}, above the maximum {matcher.max:g}"
    return None


def _one_of(options: list[Any], value: Any, norm: Normalize | None) -> str | None:
    if not options:
        return f"is {value!r}, must be absent"
    seen = _normalized(value, norm)
    if any(_same(seen, _normalized(o, norm)) for o in options):
        return None
    return f"is {value!r}, expected one of {options!r}"


def _fields(matcher: ArgMatcher, value: Any, norm: Normalize | None) -> str | None:
    if not isinstance(value, dict):
        return f"is {value!r}, expected a mapping"
    for key, sub in (matcher.fields or {}).items():
        problem = match_arg(sub, value.get(key, _MISSING), norm)
        if problem:
            return f"key {key!r} {problem}"
    if not matcher.extra_keys:
        unknown = sorted(set(value) - set(matcher.fields or {}))
        if unknown:
            return f"has unexpected key(s) {', '.join(map(repr, unknown))}"
    return None


def _elements(matcher: ArgMatcher, value: Any, norm: Normalize | None) -> str | None:
    if not isinstance(value, list):
        return f"is {value!r}, expected a list"
    if matcher.each is not None:
        for i, element in enumerate(value):
            problem = match_arg(matcher.each, element, norm)
            if problem:
                return f"element {i + 1} {problem}"
        return None
    items = matcher.items or []
    if len(value) != len(items):
        return f"has {len(value)} element(s), expected {len(items)}"
    if matcher.order == "ordered":
        for i, (sub, element) in enumerate(zip(items, value, strict=True)):
            problem = match_arg(sub, element, norm)
            if problem:
                return f"element {i + 1} {problem}"
        return None
    fits = [[j for j, e in enumerate(value) if match_arg(sub, e, norm) is None] for sub in items]
    pairs = _bipartite(fits)
    missing = [i for i in range(len(items)) if i not in pairs]
    if missing:
        i = missing[0]
        return (
            f"has no element for item {i + 1} ({match_arg(items[i], value[i], norm) or 'taken by another'})"
        )
    return None


def _bipartite(fits: list[list[int]]) -> dict[int, int]:
    """Maximum matching left -> right, given each left's fitting rights (Kuhn's algorithm)."""
    right_to_left: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in right_to_left or augment(right_to_left[j], seen):
                right_to_left[j] = i
                return True
        return False

    for i in range(len(fits)):
        augment(i, set())
    return {i: j for j, i in right_to_left.items()}


def counted_calls(
    calls: list[ToolCall], expected: ToolCallsExpectation | None = None, count: CallCount = CallCount.ATTEMPTS
) -> list[int]:
    """Indices of the calls a comparison counts: in `expected`'s scope, and succeeded ones only when
    the count (the block's own, else `count`) is `succeeded`."""
    mode = (expected.count if expected is not None else None) or count
    return [
        i
        for i, call in enumerate(calls)
        if (expected is None or expected.in_scope(call.name))
        and (mode is CallCount.ATTEMPTS or not call.failed)
    ]


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


def _describe_matcher(matcher: ArgMatcher) -> str:
    if matcher.kind == "exact":
        shown = repr(matcher.exact)
        return shown if len(shown) <= 40 else shown[:39] + "…"
    return f"<{matcher.kind}>"


def describe_spec(spec: ToolCallSpec) -> str:
    """A short human form of an expected call: exact values shown, other matchers by kind."""
    if not spec.args:
        return spec.name
    return f"{spec.name}({', '.join(f'{a}={_describe_matcher(m)}' for a, m in spec.args.items())})"


@dataclass(frozen=True)
class MatchOutcome:
    """The result of matching a trajectory's tool calls against the expected ones."""

    ok: bool
    reason: str = ""
    call_index: int | None = None  # index into the observed calls of the first offending one


def _max_matching(specs: list[ToolCallSpec], calls: list[ToolCall]) -> dict[int, int]:
    """Maximum bipartite matching spec -> call (suites hold a handful of calls)."""
    return _bipartite(
        [[j for j, call in enumerate(calls) if match_call(spec, call) is None] for spec in specs]
    )


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


def _closeness(spec: ToolCallSpec, call: ToolCall) -> tuple[int, int]:
    """Higher is closer: the same tool first, then how many of the spec's arguments the call meets."""
    if call.name != spec.name:
        return (0, 0)
    return (1, sum(match_arg(m, call.args.get(a, _MISSING)) is None for a, m in spec.args.items()))


def _why_unmatched(spec: ToolCallSpec, calls: list[ToolCall], free: list[int]) -> tuple[str, int | None]:
    """Why `spec` matched no call, against the closest call still free (else the closest of all)."""
    pool = free or list(range(len(calls)))
    same_name = [j for j in pool if calls[j].name == spec.name]
    if not same_name:
        return f"{describe_spec(spec)} was never called", None
    closest = max(same_name, key=lambda j: _closeness(spec, calls[j]))
    problem = match_call(spec, calls[closest]) or "matches, but another expected call took it"
    return (
        f"{describe_spec(spec)}; closest is call {closest + 1}, {calls[closest].signature()}: {problem}",
        closest,
    )


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
        why, closest = _why_unmatched(unmatched_specs[0], calls, unmatched_calls)
        return MatchOutcome(False, f"expected call not made: {why}", closest)
    if need_all_calls and unmatched_calls:
        j = unmatched_calls[0]
        return MatchOutcome(False, f"unexpected tool call {j + 1}: {calls[j].signature()}", j)
    return MatchOutcome(True)
