"""What a suite may name among the checks: its custom checks build, its trace-check names exist.

The suite file itself is read and validated in `trailcheck.loading.suite`; only the checks know
which checks exist, so this second step lives here. Every replay path (the CLI, the regression
flow, the fault matrix) loads a suite through `load_checked_suite`, so a suite is validated once
and the same way everywhere. Each problem is reported at its line, with the known names.
"""

from pathlib import Path
from typing import Any

from trailcheck.checks.custom import CustomCheckError, load_custom_check
from trailcheck.checks.registry import trace_checks
from trailcheck.loading.problems import Location, Problem, compose, did_you_mean, line_of
from trailcheck.loading.suite import SuiteDocument, SuiteError, read_suite
from trailcheck.models import Suite


def load_checked_suite(path: str | Path) -> Suite:
    """Load the suite at `path` and check the checks it names; raise SuiteError with every problem."""
    document = read_suite(path)
    check_suite(document)
    return document.suite


def check_suite(document: SuiteDocument) -> None:
    """Raise SuiteError when a custom check cannot be built or a trace-check name is unknown."""
    problems = _custom_check_problems(document)
    if not problems:
        problems = _trace_check_name_problems(document)
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
    return _placed(document, [(where, problem, loc, None) for where, problem, loc in found])


def _trace_check_name_problems(document: SuiteDocument) -> list[Problem]:
    """Names under `expectations.checks` (in defaults and in cases) that no trace check has."""
    known = trace_checks()
    found: list[tuple[str, str, Location, str | None]] = []
    for label, loc, names in _named_checks(document.data):
        for j, name in enumerate(names):
            if name not in known:
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
    return _placed(document, found)


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


def _placed(document: SuiteDocument, found: list[tuple[str, str, Location, str | None]]) -> list[Problem]:
    """The problems at their lines; the file's node tree is composed only when there is one."""
    if not found:
        return []
    node = compose(document.text)
    return [Problem(where, problem, line_of(node, loc), fix) for where, problem, loc, fix in found]
