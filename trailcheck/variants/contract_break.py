"""Make a valid tool response break its contract: the gateway's "schema-breaking response" fault.

The changes are read off the contract itself, so fault tests and contract checks meet: a null where
the suite expects not-null, a value outside an expected set, a value of the wrong type, a string
that misses an expected pattern, a field that must exist removed. When the tool's JSON Schema is
given too, only changes that it also refuses are chosen, so the break shows in the inline check
and in Great Expectations alike. The choice is deterministic for a seed.

    broken = break_response("lookup_order", response, suite=suite, schema=tool.response_schema, seed=7)
    broken.response        # what the gateway returns instead
    broken.description     # "lookup_order: status 'delivered' -> 'unexpected-3f1c' (out_of_set)"
"""

import copy
import random
import re
from collections.abc import Collection, Mapping
from typing import Any

import jsonschema

from trailcheck.analysis.flatten import get_path
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models.contract import RESPONSE_ROWS_COLUMN, ContractBreak, ContractSuite

Candidate = tuple[str, str, Any]  # (kind, dotted field, replacement); replacement unused for "missing"
_DROP = object()
_TYPE_SAMPLES: dict[str, Any] = {
    "str": "not-a-number",
    "int": 1234567,
    "float": 0.5,
    "bool": True,
    "list": [],
}
_SCHEMA_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "array": "list"}


class NoBreakFound(ValueError):
    """The contract constrains no field of this response (no not-null, set, type or pattern on one)."""


def _out_of_set(values: list[Any], rng: random.Random) -> Any:
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if numbers and len(numbers) == len(values):
        return max(numbers) + 1 + rng.randrange(1000)
    return f"unexpected-{rng.randrange(16**4):04x}"


def _wrong_type(value: Any, allowed: set[str], rng: random.Random) -> Any | None:
    """A value of a type outside `allowed` (GX type names: str, int, float, bool, list).

    A string stands in for a number or a flag as "n/a" would, not as "42.5": a lenient client
    (pydantic's lax mode) reads a numeric string as the number, and the break would go unnoticed
    by the agent while the gateway reports the call as broken.
    """
    if "str" not in allowed:
        return f"n/a-{rng.randrange(1000)}"
    options = [sample for name, sample in _TYPE_SAMPLES.items() if name not in allowed and name != "list"]
    return rng.choice(options) if options else None


def _not_matching(regex: str, value: Any) -> str | None:
    for candidate in ("", "???", f"{value}!?", "not matching any pattern 0"):
        if not re.search(regex, candidate):
            return candidate
    return None


def _from_suite(suite: ContractSuite, response: Any, rng: random.Random) -> list[Candidate]:
    out: list[Candidate] = []
    for exp in suite.expectations:
        column, kw = exp.column, exp.kwargs
        if column is None or column == RESPONSE_ROWS_COLUMN:
            continue
        found, value = get_path(response, column)
        if not found:
            continue
        if exp.type == "expect_column_values_to_not_be_null":
            if value is not None:
                out.append(("null", column, None))
        elif exp.type == "expect_column_to_exist":
            out.append(("missing", column, _DROP))
        elif exp.type == "expect_column_values_to_be_in_set" and isinstance(
            value_set := kw.get("value_set"), list
        ):
            out.append(("out_of_set", column, _out_of_set(value_set, rng)))
        elif exp.type == "expect_column_values_to_be_in_type_list" and isinstance(
            type_names := kw.get("type_list"), list
        ):
            wrong = _wrong_type(value, {str(t) for t in type_names}, rng)
            if wrong is not None:
                out.append(("wrong_type", column, wrong))
        elif exp.type == "expect_column_values_to_match_regex" and isinstance(regex := kw.get("regex"), str):
            bad = _not_matching(regex, value)
            if bad is not None:
                out.append(("pattern", column, bad))
    return out


def _from_schema(
    schema: Mapping[str, Any], response: Any, rng: random.Random, prefix: str = ""
) -> list[Candidate]:
    """Candidates from a JSON Schema's object properties (used when no suite is given)."""
    out: list[Candidate] = []
    if not isinstance(response, dict):
        return out
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        if name not in response or not isinstance(sub, dict):
            continue
        dotted = f"{prefix}{name}"
        types = sub.get("type")
        type_list = types if isinstance(types, list) else [types] if types else []
        if name in required and "null" not in type_list and response[name] is not None:
            out.append(("null", dotted, None))
        if isinstance(sub.get("enum"), list):
            out.append(("out_of_set", dotted, _out_of_set(list(sub["enum"]), rng)))
        if type_list:
            allowed = {_SCHEMA_TYPES.get(t, t) for t in type_list if isinstance(t, str)}
            if "float" in allowed:
                allowed.add("int")
            wrong = _wrong_type(response[name], allowed, rng)
            if wrong is not None:
                out.append(("wrong_type", dotted, wrong))
        if sub.get("type") == "object":
            out.extend(_from_schema(sub, response[name], rng, f"{dotted}."))
    return out


def _set_path(response: Any, dotted: str, value: Any) -> Any:
    """A copy of `response` with the dotted field set to `value` (removed for _DROP), in the first record."""
    broken = copy.deepcopy(response)
    parts = dotted.split(".")
    current = broken
    i = 0
    while True:
        if isinstance(current, list) and current and isinstance(current[0], dict):
            current = current[0]
            continue
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in current:
                break
        if j == len(parts):
            if value is _DROP:
                del current[key]
            else:
                current[key] = value
            return broken
        current, i = current[key], j


def break_response(
    tool: str,
    response: Any,
    suite: ContractSuite | None = None,
    schema: Mapping[str, Any] | None = None,
    seed: int = 0,
    kinds: Collection[str] | None = None,
    also_refused_by: Collection[Mapping[str, Any]] = (),
) -> ContractBreak:
    """`response` changed so that it breaks the contract (and the schema, when one is given).

    kinds: only these kinds of change (null, out_of_set, wrong_type, pattern, missing); all by default.
    also_refused_by: more JSON Schemas every chosen change must break too (e.g. the schema the agent
    itself checks responses against, so that the agent can notice the break).
    Raises NoBreakFound when neither the suite nor the schema constrains a field of the response.
    """
    if suite is None and schema is None:
        raise ValueError("break_response needs the tool's contract suite, its JSON Schema, or both")
    rng = random.Random(f"{tool}:{seed}")
    candidates = (
        _from_suite(suite, response, rng) if suite is not None else _from_schema(schema or {}, response, rng)
    )
    if kinds is not None:
        candidates = [c for c in candidates if c[0] in kinds]
    for refusing in [schema, *also_refused_by] if schema is not None else list(also_refused_by):
        validator = jsonschema.Draft202012Validator(refusing)
        candidates = [c for c in candidates if not validator.is_valid(_set_path(response, c[1], c[2]))]
    if not candidates:
        raise NoBreakFound(
            f"the contract of {tool!r} constrains no field of this response that a change would break "
            "(it needs not-null, value-set, type, pattern or column-exists expectations on fields present)"
        )
    # Distinct candidates in a stable order, so one seed always picks the same change.
    unique = list({(k, f, repr(v)): (k, f, v) for k, f, v in candidates}.values())
    kind, dotted, replacement = rng.choice(unique)
    _, original = get_path(response, dotted)
    return ContractBreak(
        tool=tool,
        kind=kind,
        field=dotted,
        original=original,
        replacement=None if replacement is _DROP else replacement,
        response=_set_path(response, dotted, replacement),
    )


def break_tool_response(
    loaded: LoadedInventory,
    tool: str,
    response: Any,
    seed: int = 0,
    kinds: Collection[str] | None = None,
    also_refused_by: Collection[Mapping[str, Any]] = (),
) -> ContractBreak:
    """`break_response` with the tool's suite and response schema from the inventory (what the gateway calls).

    Raises KeyError for a tool the inventory does not have, NoBreakFound when nothing can be broken.
    """
    spec = loaded.tool(tool)
    if spec is None:
        raise KeyError(f"tool {tool!r} is not in the inventory {loaded.path}")
    suite = loaded.suites.get(tool)
    return break_response(tool, response, suite, spec.response_schema, seed, kinds, also_refused_by)
