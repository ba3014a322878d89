"""A run as JUnit XML, the format CI systems show as test results: one testcase per case.

A case that fails the gate is a <failure> (an errored one an <error>) whose message is its
reason; a regression says so, with its pass counts against the baseline. A flaky case the
gate tolerates passes, with a note in <system-out>. Agent text is data: XML-escaped, and the
control characters XML 1.0 cannot carry are dropped.
"""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from trailcheck.models import CaseStatus, CaseSummary, RunResult

_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _case_element(run: RunResult, case: CaseSummary, blocking: set[str]) -> ET.Element:
    element = ET.Element(
        "testcase", classname=_clean(run.suite), name=_clean(case.case_id), time=f"{case.latency_s:.3f}"
    )
    regressions = {r.case_id: r for r in run.comparison.regressions} if run.comparison else {}
    regression = regressions.get(case.case_id)
    counts = f"{case.passes}/{case.trials} trials passed"
    category = case.failure_category.value if case.failure_category else case.status.value
    if case.case_id in blocking or regression is not None:
        kind = "error" if case.status is CaseStatus.ERRORED else "failure"
        message = _clean(case.reason or "did not pass")
        detail = [counts]
        if regression is not None and run.comparison is not None:
            shift = regression.shift
            was = (
                f"{shift.baseline_passes}/{shift.baseline_trials}"
                if shift
                else f"{regression.baseline_pass_rate:.0%}"
            )
            p = f", adjusted p={shift.adjusted_p_value:.3g}" if shift else ""
            detail.insert(0, f"regression against {run.comparison.baseline_version}: was {was}{p}")
            message = f"regression: {message}"
        failure = ET.SubElement(element, kind, message=message, type=category)
        failure.text = _clean("\n".join([*detail, case.reason]))
    elif case.status is not CaseStatus.PASSED:
        out = ET.SubElement(element, "system-out")
        out.text = _clean(
            f"flaky, tolerated (no significant drop against the baseline): {counts}; {case.reason}"
        )
    return element


def render_junit(run: RunResult) -> str:
    """The JUnit XML document of a run."""
    blocking = {c.case_id for c in run.blocking_cases()}
    regressed = {r.case_id for r in run.comparison.regressions} if run.comparison else set()
    failing = blocking | regressed
    errors = sum(1 for c in run.cases if c.case_id in failing and c.status is CaseStatus.ERRORED)
    failures = len(failing) - errors
    total_time = f"{sum(c.latency_s for c in run.cases):.3f}"
    counts = {"tests": str(len(run.cases)), "failures": str(failures), "errors": str(errors)}
    root = ET.Element("testsuites", {"name": "trailcheck", **counts, "time": total_time})
    suite = ET.SubElement(
        root,
        "testsuite",
        {"name": _clean(run.suite), **counts, "skipped": "0", "time": total_time},
        timestamp=run.started_at.isoformat(),
    )
    properties = ET.SubElement(suite, "properties")
    values = {
        "verdict": "pass" if run.ok else "fail",
        "run_id": run.run_id,
        "suite_version": run.suite_version,
        "agent_version": run.agent_version,
        "trials": str(run.trials),
        "pass_at_1": f"{run.pass_at_1:.4f}",
        **{f"pass_hat_{k}": f"{v:.4f}" for k, v in sorted(run.pass_hat_k.items())},
        **{f"label.{k}": v for k, v in sorted(run.labels.items())},
    }
    if run.comparison is not None:
        values["baseline_run_id"] = run.comparison.baseline_run_id
        values["baseline_version"] = run.comparison.baseline_version
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=_clean(value))
    for case in run.cases:
        suite.append(_case_element(run, case, blocking))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(run: RunResult, path: Path) -> None:
    """Write the run's JUnit XML to `path` (its folder is created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(run), encoding="utf-8")
