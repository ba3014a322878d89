"""What a suite may name among the checks: its custom checks build, its trace-check names exist.

The suite file itself is read and validated in `trailcheck.loading.suite`; only the checks know
which checks exist, so this second step lives here. Every replay path (the CLI, the regression
flow, the fault matrix) loads a suite through `load_checked_suite`, so a suite is validated once
and the same way everywhere. Each problem is reported at its line, with the known names.
"""

from pathlib import Path
from typing import Any

import yaml

from trailcheck.checks.custom import CustomCheckError, load_custom_check
from trailcheck.checks.registry import trace_checks
from trailcheck.loading import safe_yaml
from trailcheck.loading.problems import Location, Problem, compose, did_you_mean, line_of
from trailcheck.loading.suite import SuiteDocument, SuiteError, read_suite
from trailcheck.models import Suite


def load_checked_suite(path: str | Path) -> Suite:
    """Load the suite at `path` and check the checks it names; raise SuiteError with every problem.

    A file with schema problems is still searched for unknown check names, so one round of fixes
    is enough.
    """
    try:
        document = read_suite(path)
    except SuiteError as exc:
        exc.problems.extend(_names_of_unvalidated(Path(path)))
        raise
    check_suite(document)
    return document.suite


def _names_of_unvalidated(path: Path) -> list[Problem]:
    """Unknown trace-check names in a file that did not validate (nothing if it does not even parse)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = safe_yaml.load_yaml(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, safe_yaml.YamlRefused):  # read_suite said so
        return []
    if not isinstance(data, dict):
        return []
    return _placed(text, _unknown_names(data))


def check_suite(document: SuiteDocument) -> None:
    """Raise SuiteError when a custom check cannot be built or a trace-check name is unknown."""
    # Both kinds in one round, so a user fixes the file once.
    problems = _custom_check_problems(document) + _placed(document.text, _unknown_names(document.data))
    if problems:
        raise SuiteError(document.path, problems)


def _custom_check_problems(document: SuiteDocument) -> list[Problem]:
    found: list[tuple[str, str, Location]] = []
    for i, case in enumerate(document.suite.cases):
        for j, spec in enumerate(case.expectations.custom):
            try:
                load_custom_check(spec)
            except CustomCheckError as exc:
                loc = ("cases", i, "expectations", "custom", j, "check")
                found.append((f"case {case.id!r}, expectations.custom[{j}].check", str(exc), loc))
    return _placed(document.text, [(where, problem, loc, None) for where, problem, loc in found])


def _unknown_names(data: dict[str, Any]) -> list[tuple[str, str, Location, str | None]]:
    """Names under `expectations.checks` (in defaults and in cases) that no trace check has."""
    known = trace_checks()
    found: list[tuple[str, str, Location, str | None]] = []
    for label, loc, names in _named_checks(data):
        # Not a list, or not a name: the schema's problem, reported by the loader.
        for j, name in enumerate(names if isinstance(names, list) else []):
            if isinstance(name, str) and name not in known:
                hint = did_you_mean(str(name), known)
                fix = f"{hint + ' ' if hint else ''}known checks: {', '.join(known)}"
                found.append(
                    (
                        f"{label}, expectations.checks[{j}]",
                        f"unknown check {name!r}",
                        (*loc, "checks", j),
                        fix,
                    )
                )
    return found


def _named_checks(data: dict[str, Any]) -> list[tuple[str, Location, list[Any]]]:
    places: list[tuple[str, Location, list[Any]]] = []
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("expectations"), dict):
        places.append(
            ("defaults", ("defaults", "expectations"), defaults["expectations"].get("checks") or [])
        )
    for i, raw in enumerate(data.get("cases") or []):
        if isinstance(raw, dict) and isinstance(raw.get("expectations"), dict):
            names = raw["expectations"].get("checks") or []
            places.append((f"case {raw.get('id')!r}", ("cases", i, "expectations"), names))
    return places


def _placed(text: str, found: list[tuple[str, str, Location, str | None]]) -> list[Problem]:
    """The problems at their lines; the file's node tree is composed only when there is one."""
    if not found:
        return []
    node = compose(text)
    return [Problem(where, problem, line_of(node, loc), fix) for where, problem, loc, fix in found]
