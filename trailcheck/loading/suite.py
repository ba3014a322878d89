"""Read a suite file (YAML) into a validated Suite, or fail with a message a person can act on.

Every error names the file, the line, the case (by id) and the field, says what is wrong
and, where it can, how to fix it (e.g. the field name a typo was probably meant to be).
YAML is read with the safe loader only; oversized files and alias-heavy documents (YAML
bombs) are refused before parsing.
"""

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from trailcheck.checks.custom import CustomCheckError, load_custom_check
from trailcheck.checks.registry import trace_checks
from trailcheck.gc_tuning import relaxed_gc
from trailcheck.loading import safe_yaml
from trailcheck.models import Suite

MAX_SUITE_BYTES = safe_yaml.MAX_BYTES
MAX_EXPANDED_NODES = safe_yaml.MAX_EXPANDED_NODES
_LOADER = safe_yaml.LOADER


@dataclass
class SuiteProblem:
    """One thing wrong with a suite file."""

    where: str
    problem: str
    line: int | None = None
    fix: str | None = None

    def render(self, path: Path) -> str:
        place = f"{path}:{self.line}" if self.line else str(path)
        text = f"{place}: {self.where}: {self.problem}" if self.where else f"{place}: {self.problem}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


@dataclass
class SuiteError(Exception):
    """A suite file cannot be used. `str()` lists every problem found."""

    path: Path
    problems: list[SuiteProblem] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"invalid suite {self.path} ({len(self.problems)} problem{'s' * (len(self.problems) != 1)})"
        return "\n".join([head, *(p.render(self.path) for p in self.problems)])


def load_suite(path: str | Path) -> Suite:
    """Load, validate and return the suite at `path`; raise SuiteError with every problem found."""
    path = Path(path)
    with relaxed_gc():
        return _load(path, _read(path))


def _load(path: Path, text: str) -> Suite:
    try:
        data = safe_yaml.load_yaml(text)  # safe loader; deep nesting and alias bombs refused
    except safe_yaml.YamlRefused as exc:
        raise SuiteError(path, [SuiteProblem("", exc.problem, exc.line, exc.fix)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
        raise SuiteError(path, [SuiteProblem("", problem, line)]) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise SuiteError(
            path, [SuiteProblem("", f"a suite is a mapping with `name` and `cases`, got {got}", 1)]
        )
    # Line numbers come from the YAML node tree, built only when there is an error to place.
    duplicates = _duplicate_ids(data, text)
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        node = _nodes(text)
        problems = [_problem(e, data, node) for e in exc.errors()]
        # Every problem in one round: the check names are read from the raw document as well.
        raise SuiteError(
            path,
            duplicates
            + [p for p in problems if "duplicate case id" not in p.problem]
            + _unknown_trace_checks(data, text),
        ) from None
    problems = duplicates + _unknown_custom_checks(suite, text) + _unknown_trace_checks(data, text)
    if problems:
        raise SuiteError(path, problems)
    return suite


def _nodes(text: str) -> yaml.Node | None:
    return yaml.compose(text, Loader=_LOADER)


def _read(path: Path) -> str:
    if not path.is_file():
        fix = "check the path; suites usually live in suites/*.yaml"
        raise SuiteError(
            path, [SuiteProblem("", "file not found" if not path.exists() else "not a file", fix=fix)]
        )
    try:
        return safe_yaml.read_text(path, MAX_SUITE_BYTES)
    except safe_yaml.YamlRefused as exc:
        raise SuiteError(path, [SuiteProblem("", exc.problem, fix=exc.fix)]) from None
    except UnicodeDecodeError as exc:
        raise SuiteError(path, [SuiteProblem("", f"not UTF-8 text: {exc}")]) from None


def _duplicate_ids(data: dict[str, Any], text: str) -> list[SuiteProblem]:
    seen: dict[str, int] = {}
    node: yaml.Node | None = None
    problems = []
    cases = data.get("cases")
    for i, raw in enumerate(cases if isinstance(cases, list) else []):
        case_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(case_id, str):
            continue
        if case_id in seen:
            node = node or _nodes(text)
            first = _line_of(node, ("cases", seen[case_id], "id"))
            problems.append(
                SuiteProblem(
                    f"case {case_id!r}",
                    f"duplicate case id (first used at line {first})",
                    _line_of(node, ("cases", i, "id")),
                    fix="give every case a unique id",
                )
            )
        else:
            seen[case_id] = i
    return problems


def _case_label(data: dict[str, Any], loc: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """'case "refund-ok"' and the rest of the location, for a location inside `cases`."""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = data.get("cases") or []
        raw = cases[loc[1]] if loc[1] < len(cases) else None
        case_id = raw.get("id") if isinstance(raw, dict) else None
        label = f"case {case_id!r}" if case_id else f"case #{loc[1] + 1}"
        return label, loc[2:]
    return "", loc


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(error: dict[str, Any], data: dict[str, Any], node: yaml.Node | None) -> SuiteProblem:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    label, rest = _case_label(data, loc)
    field_path = _dotted(rest)
    where = ", ".join(x for x in (label, field_path) if x) or "suite"
    message = error["msg"].removeprefix("Value error, ")
    fix = None
    if error["type"] == "extra_forbidden":
        message = f"unknown field {rest[-1]!r}" if rest else message
        fix = _did_you_mean(loc)
    elif error["type"] == "missing":
        message = f"required field {rest[-1]!r} is missing" if rest else message
    return SuiteProblem(where, message, _line_of(node, loc), fix)


def _did_you_mean(loc: tuple[Any, ...]) -> str | None:
    model = _model_at(Suite, loc[:-1])
    if model is None or not isinstance(loc[-1], str):
        return None
    names = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return f"allowed fields here: {', '.join(names)}"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `loc`, when one can be found."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    for arg in (*getattr(annotation, "__args__", ()), annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        inner = getattr(arg, "__args__", None)
        if inner and arg is not annotation:
            found = _unwrap(arg)
            if found is not None:
                return found
    return None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node along `loc` that exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
            if key is not None:
                line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _unknown_custom_checks(suite: Suite, text: str) -> list[SuiteProblem]:
    problems = []
    node: yaml.Node | None = None
    for i, case in enumerate(suite.cases):
        for j, spec in enumerate(case.expectations.custom):
            try:
                load_custom_check(spec)
            except CustomCheckError as exc:
                node = node or _nodes(text)
                loc = ("cases", i, "expectations", "custom", j, "check")
                problems.append(
                    SuiteProblem(
                        f"case {case.id!r}, expectations.custom[{j}].check", str(exc), _line_of(node, loc)
                    )
                )
    return problems


def _unknown_trace_checks(data: dict[str, Any], text: str) -> list[SuiteProblem]:
    """`expectations.checks` names that no trace check is registered under (defaults and cases)."""
    known = trace_checks()
    places: list[tuple[str, tuple[Any, ...], Any]] = []
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("expectations"), dict):
        places.append(("defaults", ("defaults", "expectations"), defaults["expectations"].get("checks")))
    for i, raw in enumerate(data.get("cases") or []):
        if isinstance(raw, dict) and isinstance(raw.get("expectations"), dict):
            places.append(
                (f"case {raw.get('id')!r}", ("cases", i, "expectations"), raw["expectations"].get("checks"))
            )
    problems = []
    node: yaml.Node | None = None
    for label, loc, names in places:
        # Not a list, or not a name: the schema's problem, already reported when it fails.
        for j, name in enumerate(names if isinstance(names, list) else []):
            if not isinstance(name, str) or name in known:
                continue
            node = node or _nodes(text)
            close = difflib.get_close_matches(str(name), list(known), n=1)
            fix = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                SuiteProblem(
                    f"{label}, expectations.checks[{j}]",
                    f"unknown check {name!r}",
                    _line_of(node, (*loc, "checks", j)),
                    fix=f"{fix}known checks: {', '.join(known)}",
                )
            )
    return problems
