"""BFCL (Berkeley Function Calling Leaderboard) conformance data, read for the argument-check tests.

BFCL writes parameter schemas in its own dialect (``dict``, ``float``, ``tuple``, ``any``); they are
translated to JSON Schema here. Its ground truth lists, per parameter, the allowed values ("" means
the parameter may be omitted; a dict value holds allowed values per key, recursively). `allowed_schema`
turns that into the JSON Schema an argument check enforces, and `bfcl_valid` is BFCL's own rule,
written out independently, as the oracle the check must agree with.
"""

import json
import re
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


# --- BFCL's AST checker rules (Python), written out as the oracle for the `bfcl` normalize preset ---
# Reference: gorilla, berkeley-function-call-leaderboard/bfcl_eval/eval_checker/ast_eval/ast_checker.py
# (simple_function_checker, type_checker, standardize_string, string/list/dict/list_dict checkers).

PY_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}


def standardize(text: str) -> str:
    """standardize_string: drop spaces and , . / - _ * ^, lower-case, single quotes read as double."""
    return re.sub(r"[ ,./\-_*^]", "", text).lower().replace("'", '"')


def _answer_type(options: list[Any]) -> type | None:
    return next((type(o) for o in options if o != ""), None)


def _type_ok(value: Any, options: list[Any], expected: type, nested: type | None) -> tuple[bool, bool]:
    """(valid, is_variable) as type_checker decides them (one level of nesting)."""
    answer_type = _answer_type(options)
    variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None:
            return True, variable
        for option in options:
            if not isinstance(option, list) or all(_type_ok(v, option, nested, None)[0] for v in value):
                return True, variable  # an option that is not a list ("" too) skips the element check
        return False, False  # the checker's fallback below keeps the nested failure
    if answer_type is not None and type(value) is answer_type:
        return True, True
    return False, False


def _std(value: Any) -> Any:
    return standardize(value) if isinstance(value, str) else value


def _dict_ok(value: dict[str, Any], options: list[Any]) -> bool:
    for option in options:
        if option == "":
            continue
        if all(
            key in option and _std(v) in [_std(o) for o in option[key]] for key, v in value.items()
        ) and all(key in value or "" in allowed for key, allowed in option.items()):
            return True
    return False


def _param_ok(value: Any, options: list[Any], prop: dict[str, Any]) -> bool:
    declared = prop.get("type", "any")
    expected = PY_TYPES.get(declared, str)
    nested = (
        PY_TYPES.get((prop.get("items") or {}).get("type", "")) if declared in ("array", "tuple") else None
    )
    if declared == "float" and type(value) is int:
        value = float(value)  # the checker lets Python turn an int into a float
    valid, variable = _type_ok(value, options, expected, nested)
    if not valid:
        return False
    if not variable:
        if expected is dict:
            return _dict_ok(value, options)
        if expected is list and nested is dict:
            return any(
                isinstance(o, list)
                and len(o) == len(value)
                and all(_dict_ok(v, [d]) for v, d in zip(value, o, strict=True))
                for o in options
            )
        if expected is str:
            return standardize(value) in [standardize(o) for o in options if isinstance(o, str)]
        if expected is list:
            return [_std(v) for v in value] in [
                [_std(x) for x in o] for o in options if isinstance(o, list | str)
            ]
    return value in options


def checker_valid(args: dict[str, Any], params: dict[str, list[Any]], function: dict[str, Any]) -> bool:
    """simple_function_checker for one call whose name is right: BFCL's verdict on its arguments."""
    schema = function["parameters"]
    declared = schema.get("properties") or {}
    if any(p not in args for p in schema.get("required") or []):
        return False
    for name, value in args.items():
        if name not in declared or name not in params:
            return False
        if not _param_ok(value, params[name], declared[name]):
            return False
    return all(name in args or "" in allowed for name, allowed in params.items())


# --- The converter under test: a BFCL answer as a trailcheck expected call (normalize: bfcl) ---

_VALUE_TYPES = {
    "string": "string",
    "integer": "integer",
    "float": "number",
    "boolean": "boolean",
    "any": "string",
}


def _element_type(value: Any) -> str | None:
    return {bool: "boolean", int: "integer", float: "float", str: "string"}.get(type(value))


def _option_matcher(option: Any, prop: dict[str, Any]) -> dict[str, Any]:
    declared = prop.get("type", "any")
    if declared == "dict" and isinstance(option, dict):
        # dict_checker compares values by membership only (no type check), strings standardised.
        return {
            "fields": {
                k: {
                    "one_of": [o for o in v if o != ""],
                    "optional": "" in v,
                    # Only a string value is standardised there, not the strings in a list value.
                    **({} if all(isinstance(o, str) for o in v) else {"normalize": "none"}),
                }
                for k, v in option.items()
            },
            "extra_keys": False,
        }
    if declared in ("array", "tuple") and isinstance(option, list):
        item = prop.get("items") or {}
        if item.get("type") == "dict":
            return {"items": [_option_matcher(o, item) for o in option]}
        # The element type is checked strictly: a float array's elements are floats, not ints.
        return {"items": [{"exact": o, "type": _element_type(o)} for o in option]}
    return {"exact": option}


def arg_matcher(allowed: list[Any], prop: dict[str, Any], preset: str = "bfcl") -> dict[str, Any]:
    """The matcher of one ground-truth parameter: its allowed values, "" making it optional."""
    options = [o for o in allowed if o != ""]
    optional = len(options) < len(allowed)
    declared = prop.get("type", "any")
    answer_type = _answer_type(options)
    if answer_type is not None and answer_type is not PY_TYPES.get(declared, str):
        # A "variable": the answer is not of the declared type, so it is compared as given.
        return {"one_of": options, "optional": optional}
    matcher: dict[str, Any]
    if declared in ("dict", "array", "tuple"):
        matcher = {
            "any_of": [_option_matcher(o, prop) for o in options],
            "type": "object" if declared == "dict" else "array",
        }
    else:
        matcher = {"one_of": options, "type": _VALUE_TYPES.get(declared, "string")}
    return {**matcher, "normalize": preset, "optional": optional}


def expected_call(
    name: str, params: dict[str, list[Any]], function: dict[str, Any], preset: str = "bfcl"
) -> dict[str, Any]:
    """A ground-truth call as a `tool_calls` entry (YAML form): no argument beyond the answer's."""
    schema = function["parameters"]
    declared = schema.get("properties") or {}
    required = schema.get("required") or []
    args = {p: arg_matcher(allowed, declared.get(p) or {}, preset) for p, allowed in params.items()}
    for p in required:
        if p in args:
            args[p]["optional"] = False  # the schema's required wins over a "" in the answer
    # Where the answer contradicts its own schema, the checker refuses what the schema refuses:
    # a parameter the function does not declare must be absent; a required one the answer does not
    # list can be neither given (not in the answer) nor left out (required), so no call matches.
    for p in params:
        if p not in declared:
            args[p] = {"one_of": [], "optional": True}
    for p in required:
        if p not in params:
            args[p] = {"one_of": []}
    return {"name": name, "args": args, "extra_args": False}
