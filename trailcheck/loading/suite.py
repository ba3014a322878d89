"""Read a suite file (YAML) into a validated Suite, or fail with a message a person can act on.

Every error names the file, the line, the case (by id) and the field, says what is wrong
and, where it can, how to fix it (e.g. the field name a typo was probably meant to be).
Which checks a suite may name is for the checks to say: `trailcheck.checks.suite_check`
validates the names and custom checks of a `SuiteDocument` read here.
YAML is read with the safe loader only; oversized files and alias-heavy documents (YAML
bombs) are refused before parsing.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from trailcheck.gc_tuning import relaxed_gc
from trailcheck.loading import safe_yaml
from trailcheck.loading.problems import (
    FileProblems,
    Location,
    Problem,
    compose,
    line_of,
    read_problem,
    validation_problem,
    yaml_error_problem,
)
from trailcheck.models import Suite

MAX_SUITE_BYTES = safe_yaml.MAX_BYTES
MAX_EXPANDED_NODES = safe_yaml.MAX_EXPANDED_NODES


class SuiteError(FileProblems):
    """A suite file cannot be used. `str()` lists every problem found."""

    def __init__(self, path: Path, problems: list[Problem] | None = None) -> None:
        super().__init__(path, problems or [], "suite")


@dataclass(frozen=True)
class SuiteDocument:
    """A validated suite with the data and text it was read from, to place later problems at their line."""

    path: Path
    suite: Suite
    data: dict[str, Any]
    text: str

    def line_of(self, loc: Location) -> int | None:
        """The line of `loc` (e.g. ("cases", 2, "expectations")) in the file."""
        return line_of(compose(self.text), loc)


def load_suite(path: str | Path) -> Suite:
    """Load, validate and return the suite at `path`; raise SuiteError with every problem found.

    This checks the file on its own; `trailcheck.checks.suite_check.load_checked_suite` also checks
    the check names and custom checks it names (what a replay needs).
    """
    return read_suite(path).suite


def read_suite(path: str | Path) -> SuiteDocument:
    """`load_suite`, keeping the data and text for callers that validate more of it."""
    path = Path(path)
    with relaxed_gc():
        text = _read(path)
        data = _parse(path, text)
        return SuiteDocument(path, _validate(path, data, text), data, text)


def _parse(path: Path, text: str) -> dict[str, Any]:
    try:
        data = safe_yaml.load_yaml(text)  # safe loader; deep nesting and alias bombs refused
    except (safe_yaml.YamlRefused, yaml.YAMLError) as exc:
        raise SuiteError(path, [yaml_error_problem(exc)]) from None
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        raise SuiteError(path, [Problem("", f"a suite is a mapping with `name` and `cases`, got {got}", 1)])
    return data


def _validate(path: Path, data: dict[str, Any], text: str) -> Suite:
    # Line numbers come from the YAML node tree, built only when there is an error to place.
    duplicates = _duplicate_ids(data, text)
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        node = compose(text)
        problems = [validation_problem(e, data, node, Suite, _case_label, "suite") for e in exc.errors()]
        raise SuiteError(
            path, duplicates + [p for p in problems if "duplicate case id" not in p.problem]
        ) from None
    if duplicates:
        raise SuiteError(path, duplicates)
    return suite


def _read(path: Path) -> str:
    missing = read_problem(path, "check the path; suites usually live in suites/*.yaml")
    if missing:
        raise SuiteError(path, [missing])
    try:
        return safe_yaml.read_text(path, MAX_SUITE_BYTES)
    except safe_yaml.YamlRefused as exc:
        raise SuiteError(path, [Problem("", exc.problem, fix=exc.fix)]) from None
    except UnicodeDecodeError as exc:
        raise SuiteError(path, [Problem("", f"not UTF-8 text: {exc}")]) from None


def _duplicate_ids(data: dict[str, Any], text: str) -> list[Problem]:
    seen: dict[str, int] = {}
    node: yaml.Node | None = None
    problems = []
    cases = data.get("cases")
    for i, raw in enumerate(cases if isinstance(cases, list) else []):
        case_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(case_id, str):
            continue
        if case_id in seen:
            node = node or compose(text)
            first = line_of(node, ("cases", seen[case_id], "id"))
            problems.append(
                Problem(
                    f"case {case_id!r}",
                    f"duplicate case id (first used at line {first})",
                    line_of(node, ("cases", i, "id")),
                    fix="give every case a unique id",
                )
            )
        else:
            seen[case_id] = i
    return problems


def _case_label(data: dict[str, Any], loc: Location) -> tuple[str, Location]:
    """'case "refund-ok"' and the rest of the location, for a location inside `cases`."""
    if len(loc) >= 2 and loc[0] == "cases" and isinstance(loc[1], int):
        cases = data.get("cases") or []
        raw = cases[loc[1]] if loc[1] < len(cases) else None
        case_id = raw.get("id") if isinstance(raw, dict) else None
        label = f"case {case_id!r}" if case_id else f"case #{loc[1] + 1}"
        return label, loc[2:]
    return "", loc
