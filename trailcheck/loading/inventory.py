"""Read an integration inventory (`tools.yaml`) and the contract suite files (JSON) it names.

Like suite loading, every error names the file, the line, the tool and the field, says what is
wrong and how to fix it. YAML is read with the safe loader only (and alias bombs are refused);
suite JSON is parsed by `json`, and its lines are found by reading the same text as YAML (JSON is
YAML), so a broken expectation is reported at its line. Great Expectations is not imported here:
expectation types are checked against the names of the modules GX ships.
"""

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trailcheck.loading import safe_yaml
from trailcheck.loading.problems import (
    FileProblems,
    Location,
    Problem,
    compose,
    did_you_mean,
    line_of,
    read_problem,
    validation_problem,
    yaml_error_problem,
)
from trailcheck.models.contract import ContractSuite
from trailcheck.models.inventory import ToolInventory, ToolSpec

CONTRACT_FILE_KINDS = ("inventory", "contract suite")


MAX_FILE_BYTES = safe_yaml.MAX_BYTES
# Fields whose name says a secret was written into the file itself.
_SECRET_FIELDS = frozenset({"token", "secret", "password", "api_key", "value", "key"})


class ContractFileError(FileProblems):
    """An inventory or contract suite file cannot be used. `str()` lists every problem found."""

    def __init__(self, path: Path, problems: list[Problem] | None = None, kind: str = "inventory") -> None:
        super().__init__(path, problems or [], kind)


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
        raise ContractFileError(path, [Problem("", f"an inventory is a mapping with `tools`, got {got}", 1)])
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
                Problem(
                    f"tool {tool.name!r}, contract",
                    f"contract suite file {tool.contract!r} not found (looked at {suite_path})",
                    line_of(node, ("tools", i, "contract")),
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
        problem = Problem(
            "",
            f"not valid JSON: {exc.msg} (column {exc.colno})",
            exc.lineno,
            fix="a suite is JSON as GX writes it: check the commas, quotes and brackets near this line",
        )
        raise ContractFileError(path, [problem], "contract suite") from None
    if not isinstance(data, dict):
        problem = Problem(
            "", f"a suite is a JSON object with `name` and `expectations`, got {type(data).__name__}", 1
        )
        raise ContractFileError(path, [problem], "contract suite")
    try:
        suite = ContractSuite.model_validate(data)
    except ValidationError as exc:
        node = compose(text)
        problems = [_problem(e, data, node, ContractSuite) for e in exc.errors()]
        raise ContractFileError(path, problems, "contract suite") from None
    problems = _expectation_problems(suite, text)
    if problems:
        raise ContractFileError(path, problems, "contract suite")
    return suite


def _read(path: Path, kind: str, fix: str) -> str:
    missing = read_problem(path, fix)
    if missing:
        raise ContractFileError(path, [missing], kind)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        problem = Problem("", f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit")
        raise ContractFileError(path, [problem], kind)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContractFileError(path, [Problem("", f"not UTF-8 text: {exc}")], kind) from None


def _parse_yaml(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    """The data (safe loader; deep nesting and alias bombs refused first) and its nodes, for lines."""
    try:
        data = safe_yaml.load_yaml(text)
        return data, yaml.compose(text, Loader=safe_yaml.LOADER)
    except (safe_yaml.YamlRefused, yaml.YAMLError) as exc:
        raise ContractFileError(path, [yaml_error_problem(exc)]) from None


def _label(data: dict[str, Any], loc: Location) -> tuple[str, Location]:
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
    error: Any, data: dict[str, Any], node: yaml.Node | None, model: type[ToolInventory] | type[ContractSuite]
) -> Problem:
    problem = validation_problem(error, data, node, model, _label)
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden" and loc and loc[-1] in _SECRET_FIELDS:
        problem.fix = "never put a secret in the inventory: name it with secret_env or secret_block"
    elif error["type"] == "string_pattern_mismatch" and loc and loc[-1] == "secret_env":
        problem.fix = (
            "name the environment variable that holds the secret (e.g. ORDERS_API_TOKEN), not the secret"
        )
    return problem


@functools.cache
def known_expectation_types() -> frozenset[str]:
    """The expectation types GX ships, read from its module names (GX itself is not imported)."""
    spec = importlib.util.find_spec("great_expectations")
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    core = Path(next(iter(spec.submodule_search_locations))) / "expectations" / "core"
    return frozenset(p.stem for p in core.glob("expect_*.py"))


def _expectation_problems(suite: ContractSuite, text: str) -> list[Problem]:
    known = known_expectation_types()
    node: yaml.Node | None = None
    problems = []
    for i, exp in enumerate(suite.expectations):
        where = f"expectation #{i + 1} ({exp.type})"
        problem, fix, field_name = None, None, "type"
        if known and exp.type not in known:
            problem = f"unknown expectation type {exp.type!r}"
            fix = did_you_mean(exp.type, sorted(known)) or "see the Great Expectations expectation gallery"
        elif _needs_column(exp.type) and not isinstance(exp.kwargs.get("column"), str):
            problem, field_name = "needs kwargs.column, the (dotted) name of a response field", "kwargs"
            fix = 'add "column": "<field>" to kwargs, e.g. "customer.tier"'
        if problem:
            node = node or compose(text)
            problems.append(Problem(where, problem, line_of(node, ("expectations", i, field_name)), fix))
    return problems


def _needs_column(expectation_type: str) -> bool:
    return expectation_type.startswith("expect_column_") and not expectation_type.startswith(
        "expect_column_pair_"
    )
