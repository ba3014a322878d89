"""Read an integration inventory (`tools.yaml`) and the contract suite files (JSON) it names.

Like suite loading, every error names the file, the line, the tool and the field, says what is
wrong and how to fix it. YAML is read with the safe loader only (and alias bombs are refused);
suite JSON is parsed by `json`, and its lines are found by reading the same text as YAML (JSON is
YAML), so a broken expectation is reported at its line. Great Expectations is not imported here:
expectation types are checked against the names of the modules GX ships.
"""

import difflib
import functools
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from trailcheck.loading import safe_yaml
from trailcheck.loading.suite import (
    MAX_SUITE_BYTES,
    SuiteProblem,
    _dotted,
    _line_of,
    _model_at,
)
from trailcheck.models.contract import ContractSuite
from trailcheck.models.inventory import ToolInventory, ToolSpec

CONTRACT_FILE_KINDS = ("inventory", "contract suite")


@dataclass
class ContractFileError(Exception):
    """An inventory or contract suite file cannot be used. `str()` lists every problem found."""

    path: Path
    problems: list[SuiteProblem] = field(default_factory=list)
    kind: str = "inventory"

    def __str__(self) -> str:
        n = len(self.problems)
        head = f"invalid {self.kind} {self.path} ({n} problem{'s' * (n != 1)})"
        return "\n".join([head, *(p.render(self.path) for p in self.problems)])


@dataclass(frozen=True)
class LoadedInventory:
    """An inventory with the contract suite of every tool, read from `path`."""

    path: Path
    inventory: ToolInventory
    suites: dict[str, ContractSuite]
    suite_paths: dict[str, Path]

    def tool(self, name: str) -> ToolSpec | None:
        """The tool called `name`, or None."""
        return self.inventory.tool(name)


def load_inventory(path: str | Path) -> LoadedInventory:
    """Load and validate `tools.yaml` and every suite it names; raise ContractFileError on any problem."""
    path = Path(path)
    text = _read(path, "inventory", "inventories usually live beside the suites, e.g. contracts/tools.yaml")
    data, node = _parse_yaml(path, text)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ContractFileError(
            path, [SuiteProblem("", f"an inventory is a mapping with `tools`, got {got}", 1)]
        )
    try:
        inventory = ToolInventory.model_validate(data)
    except ValidationError as exc:
        raise ContractFileError(
            path, [_problem(e, data, node, ToolInventory) for e in exc.errors()]
        ) from None
    suites: dict[str, ContractSuite] = {}
    suite_paths: dict[str, Path] = {}
    missing = []
    for i, tool in enumerate(inventory.tools):
        suite_path = (path.parent / tool.contract).resolve()
        if not suite_path.is_file():
            missing.append(
                SuiteProblem(
                    f"tool {tool.name!r}, contract",
                    f"contract suite file {tool.contract!r} not found (looked at {suite_path})",
                    _line_of(node, ("tools", i, "contract")),
                    fix="a path relative to the inventory; `trailcheck contracts infer` proposes a suite",
                )
            )
            continue
        suite_paths[tool.name] = suite_path
    if missing:
        raise ContractFileError(path, missing)
    for name, suite_path in suite_paths.items():
        suites[name] = load_contract_suite(suite_path)
    return LoadedInventory(path, inventory, suites, suite_paths)


def load_contract_suite(path: str | Path) -> ContractSuite:
    """Load one contract suite (GX expectation suite JSON); raise ContractFileError naming line and field."""
    path = Path(path)
    text = _read(path, "contract suite", "check the `contract` path in the inventory")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problem = SuiteProblem(
            "",
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            exc.lineno,
            fix="a suite is JSON as GX writes it: check the commas, quotes and brackets near this line",
        )
        raise ContractFileError(path, [problem], "contract suite") from None
    if not isinstance(data, dict):
        problem = SuiteProblem(
            "", f"a suite is a JSON object with `name` and `expectations`, got {type(data).__name__}", 1
        )
        raise ContractFileError(path, [problem], "contract suite")
    try:
        suite = ContractSuite.model_validate(data)
    except ValidationError as exc:
        node = _json_nodes(text)
        problems = [_problem(e, data, node, ContractSuite) for e in exc.errors()]
        raise ContractFileError(path, problems, "contract suite") from None
    problems = _expectation_problems(suite, text)
    if problems:
        raise ContractFileError(path, problems, "contract suite")
    return suite


def _read(path: Path, kind: str, fix: str) -> str:
    if not path.is_file():
        raise ContractFileError(
            path, [SuiteProblem("", "file not found" if not path.exists() else "not a file", fix=fix)], kind
        )
    size = path.stat().st_size
    if size > MAX_SUITE_BYTES:
        problem = SuiteProblem("", f"file is {size:,} bytes, over the {MAX_SUITE_BYTES:,}-byte limit")
        raise ContractFileError(path, [problem], kind)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractFileError(path, [SuiteProblem("", f"not UTF-8 text: {exc}")], kind) from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    """The data (safe loader; deep nesting and alias bombs refused first) and its nodes, for lines."""
    try:
        data = safe_yaml.load_yaml(text)
        return data, yaml.compose(text, Loader=safe_yaml.LOADER)
    except safe_yaml.YamlRefused as exc:
        raise ContractFileError(path, [SuiteProblem("", exc.problem, exc.line, exc.fix)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise ContractFileError(path, [SuiteProblem("", problem, mark.line + 1 if mark else None)]) from None


def _json_nodes(text: str) -> yaml.Node | None:
    """The JSON text as YAML nodes, only to find lines; None when the YAML reader disagrees."""
    try:
        safe_yaml.check_depth(text)  # libyaml can crash the process on very deep nesting
        return yaml.compose(text, Loader=safe_yaml.LOADER)
    except (yaml.YAMLError, safe_yaml.YamlRefused):
        return None


def _label(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """ "tool 'lookup_order'" or "expectation #2 (its type)", and the rest of the location."""
    if len(loc) < 2 or loc[0] not in ("tools", "expectations") or not isinstance(loc[1], int):
        return "", loc
    items = data.get(loc[0]) or []
    raw = items[loc[1]] if loc[1] < len(items) else None
    if loc[0] == "tools":
        name = raw.get("name") if isinstance(raw, dict) else None
        return (f"tool {name!r}" if isinstance(name, str) else f"tool #{loc[1] + 1}"), loc[2:]
    kind = raw.get("type") if isinstance(raw, dict) else None
    return f"expectation #{loc[1] + 1}" + (f" ({kind})" if isinstance(kind, str) else ""), loc[2:]


def _problem(
    error: dict[str, Any], data: dict[str, Any], node: yaml.Node | None, model: type[BaseModel]
) -> SuiteProblem:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    label, rest = _label(data, loc)
    where = ", ".join(x for x in (label, _dotted(rest)) if x) or model.__name__
    message = error["msg"].removeprefix("Value error, ")
    fix = None
    if error["type"] == "extra_forbidden" and rest:
        message = f"unknown field {rest[-1]!r}"
        fix = _did_you_mean(model, loc)
        if rest[-1] in {"token", "secret", "password", "api_key", "value", "key"}:
            fix = "never put a secret in the inventory: name it with secret_env or secret_block"
    elif error["type"] == "missing" and rest:
        message = f"required field {rest[-1]!r} is missing"
    elif error["type"] == "string_pattern_mismatch" and rest and rest[-1] == "secret_env":
        fix = "name the environment variable that holds the secret (e.g. ORDERS_API_TOKEN), not the secret"
    return SuiteProblem(where, message, _line_of(node, loc), fix)


def _did_you_mean(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    owner = _model_at(model, loc[:-1])
    if owner is None or not isinstance(loc[-1], str):
        return None
    names = list(owner.model_fields)
    close = difflib.get_close_matches(loc[-1], names, n=1)
    return f"did you mean {close[0]!r}?" if close else f"allowed fields here: {', '.join(names)}"


@functools.cache
def known_expectation_types() -> frozenset[str]:
    """The expectation types GX ships, read from its module names (GX itself is not imported)."""
    spec = importlib.util.find_spec("great_expectations")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    core = Path(next(iter(spec.submodule_search_locations))) / "expectations" / "core"
    return frozenset(p.stem for p in core.glob("expect_*.py"))


def _expectation_problems(suite: ContractSuite, text: str) -> list[SuiteProblem]:
    known = known_expectation_types()
    node: yaml.Node | None = None
    problems = []
    for i, exp in enumerate(suite.expectations):
        where = f"expectation #{i + 1} ({exp.type})"
        problem, fix, field_name = None, None, "type"
        if known and exp.type not in known:
            close = difflib.get_close_matches(exp.type, sorted(known), n=1)
            problem = f"unknown expectation type {exp.type!r}"
            fix = f"did you mean {close[0]!r}?" if close else "see the Great Expectations expectation gallery"
        elif _needs_column(exp.type) and not isinstance(exp.kwargs.get("column"), str):
            problem, field_name = "needs kwargs.column, the (dotted) name of a response field", "kwargs"
            fix = 'add "column": "<field>" to kwargs, e.g. "customer.tier"'
        if problem:
            node = node or _json_nodes(text)
            problems.append(
                SuiteProblem(where, problem, _line_of(node, ("expectations", i, field_name)), fix)
            )
    return problems


def _needs_column(expectation_type: str) -> bool:
    return expectation_type.startswith("expect_column_") and not expectation_type.startswith(
        "expect_column_pair_"
    )
