"""The built-in trace checks: one explicit list, unknown names, crashes as errored verdicts."""

import subprocess
import sys

import pytest

from trailcheck.checks import registry
from trailcheck.models import AssistantMessage, Trajectory, Verdict, VerdictStatus


def _answered(trajectory: Trajectory, case: object) -> Verdict:
    ok = bool(trajectory.final_answer)
    return Verdict(check="answered", status=VerdictStatus.PASSED if ok else VerdictStatus.FAILED)


def _crashes(trajectory: Trajectory, case: object) -> Verdict:
    raise RuntimeError("boom")


OWN = {"answered": _answered, "crashes": _crashes}


def test_checks_of_ones_own_run_and_a_crash_is_an_errored_verdict() -> None:
    trajectory = Trajectory(case_id="t", steps=[AssistantMessage(content="hi")], final_answer="hi")
    verdicts = {v.check: v for v in registry.score_trace(trajectory, checks=OWN)}
    assert verdicts["answered"].status is VerdictStatus.PASSED
    assert verdicts["crashes"].status is VerdictStatus.ERRORED
    assert "RuntimeError: boom" in verdicts["crashes"].reason
    empty = Trajectory(case_id="t")
    picked = registry.resolve(["answered"], available=OWN)
    assert registry.score_trace(empty, checks=picked)[0].status is VerdictStatus.FAILED


def test_unknown_names_are_refused_with_the_known_ones() -> None:
    with pytest.raises(registry.UnknownCheckError, match=r"unknown check\(s\) 'nope'; known: answered"):
        registry.resolve(["nope"], available={"answered": _answered})
    with pytest.raises(registry.UnknownCheckError, match="known: context_saturation, goal_alignment"):
        registry.resolve(["silent_eror"])


def test_the_built_in_list_names_each_check_as_its_verdicts_do() -> None:
    names = list(registry.TRACE_CHECKS)
    assert names == [
        "silent_error",
        "tool_call_failure",
        "security",
        "injection_followed",
        "injection_seen",
        "context_saturation",
        "goal_alignment",
    ]
    trajectory = Trajectory(case_id="t", steps=[AssistantMessage(content="hi")], final_answer="hi")
    assert [v.check for v in registry.score_trace(trajectory)] == names
    assert [c.name for c in registry.checks_named(None)] == names


def test_the_list_is_complete_in_a_fresh_interpreter_whatever_was_imported_first() -> None:
    """No registration by import: importing one check module first neither adds nor loses a check."""
    code = (
        "import trailcheck.checks.goal\n"
        "from trailcheck.checks.registry import TRACE_CHECKS\n"
        "print(','.join(TRACE_CHECKS))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ",".join(registry.TRACE_CHECKS)
