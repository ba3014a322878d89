"""BFCL (Berkeley Function Calling Leaderboard) conformance data, read for the argument-check tests.

BFCL writes parameter schemas in its own dialect (``dict``, ``float``, ``tuple``, ``any``); they are
translated to JSON Schema here. Its ground truth lists, per parameter, the allowed values ("" means
the parameter may be omitted; a dict value holds allowed values per key, recursively). `allowed_schema`
turns that into the JSON Schema an argument check enforces, and `bfcl_valid` is BFCL's own rule,
written out independently, as the oracle the check must agree with.
"""

import json
from pathlib import Path
from typing import Any

BFCL = Path(__file__).resolve().parent / "conformance" / "bfcl"
_TYPES = {"dict": "object", "float": "number", "tuple": "array"}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def questions(category: str) -> list[dict[str, Any]]:
    return read_jsonl(BFCL / f"BFCL_v4_{category}.json")


def answers(category: str) -> dict[str, list[dict[str, Any]]]:
    return {
        a["id"]: a["ground_truth"] for a in read_jsonl(BFCL / "possible_answer" / f"BFCL_v4_{category}.json")
    }


def to_json_schema(schema: Any) -> Any:
    """A BFCL parameter schema as JSON Schema (draft 2020-12)."""
    if isinstance(schema, list):
        return [to_json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and value == "any":
            continue
        if key == "type" and isinstance(value, str):
            out[key] = _TYPES.get(value, value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf"):
            out[key] = to_json_schema(value)
        else:
            out[key] = value
    return out


def _value_schema(allowed: Any) -> dict[str, Any]:
    if isinstance(allowed, dict) and all(isinstance(v, list) for v in allowed.values()):
        # A nested ground-truth dict knows all its keys: an unknown key is wrong there too.
        return {**allowed_schema(allowed), "additionalProperties": False}
    return {"const": allowed}


def allowed_schema(params: dict[str, list[Any]]) -> dict[str, Any]:
    """The JSON Schema of one ground-truth call: each parameter one of its allowed values, "" optional."""
    return {
        "type": "object",
        "properties": {
            name: {"anyOf": [_value_schema(v) for v in allowed if v != ""]}
            for name, allowed in params.items()
        },
        "required": [name for name, allowed in params.items() if "" not in allowed],
    }


def _allowed(value: Any, options: list[Any]) -> bool:
    return any(_matches(value, o) for o in options if o != "")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _matches(value: Any, option: Any) -> bool:
    if isinstance(option, dict) and all(isinstance(v, list) for v in option.values()):
        return isinstance(value, dict) and _call_fits(value, option)
    return _same(value, option)


def _call_fits(args: dict[str, Any], params: dict[str, list[Any]]) -> bool:
    if any(name not in params for name in args):
        return False  # an argument the ground truth does not know
    for name, options in params.items():
        if name not in args:
            if "" not in options:
                return False  # a required argument is missing
        elif not _allowed(args[name], options):
            return False
    return True


def bfcl_valid(
    name: str, args: dict[str, Any], ground_truth: list[dict[str, Any]], functions: dict[str, dict[str, Any]]
) -> bool:
    """BFCL's rule: a function of the question and of the answer; its schema's required parameters given;
    no parameter its schema does not declare; and the arguments fit one of the answer's calls."""
    schema = functions.get(name)
    if schema is None:
        return False
    declared = schema.get("properties") or {}
    if any(p not in args for p in schema.get("required") or []) or any(a not in declared for a in args):
        return False
    return any(_call_fits(args, params) for call in ground_truth for fn, params in call.items() if fn == name)


def first_value(options: list[Any], last: bool = False) -> tuple[bool, Any]:
    """(present, a concrete allowed value): the first (or last) non-"" option, nested dicts filled in."""
    concrete = [o for o in options if o != ""]
    if not concrete:
        return False, None
    option = concrete[-1] if last else concrete[0]
    if isinstance(option, dict) and all(isinstance(v, list) for v in option.values()):
        filled = {k: first_value(v, last) for k, v in option.items()}
        return True, {k: v for k, (present, v) in filled.items() if present}
    return True, option


def disallowed(options: list[Any]) -> Any:
    """A value none of `options` allows, of a plausible type."""
    concrete = [o for o in options if o != ""]
    sample = concrete[0] if concrete else "x"
    if isinstance(sample, bool):
        candidates: list[Any] = [not sample, "maybe"]
    elif isinstance(sample, int | float):
        candidates = [
            max(o for o in concrete if isinstance(o, int | float) and not isinstance(o, bool)) + 12345
        ]
    elif isinstance(sample, list):
        candidates = [[*sample, "zz-not-allowed"], ["zz-not-allowed"]]
    elif isinstance(sample, dict):
        candidates = [{"zz_not_a_key": 1}]
    else:
        candidates = ["zz-not-allowed"]
    return next(c for c in candidates if not _allowed(c, options))


def sample_args(schema: dict[str, Any]) -> dict[str, Any]:
    """Arguments a JSON Schema accepts: its required parameters with values of their types."""
    samples = {"string": "x", "integer": 1, "number": 1.5, "boolean": True, "array": [], "object": {}}
    args = {}
    for name in schema.get("required") or []:
        prop = (schema.get("properties") or {}).get(name) or {}
        if prop.get("enum"):
            args[name] = prop["enum"][0]
        elif prop.get("type") == "object" and prop.get("properties"):
            args[name] = sample_args(prop)
        else:
            args[name] = samples.get(prop.get("type"), "x")
    return args
