"""The registry of trace checks: lookup by name, unknown names, crashes as errored verdicts."""

import pytest

from trailcheck.checks import registry
from trailcheck.models import AssistantMessage, Trajectory, Verdict, VerdictStatus


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_CHECKS", {})


def _answered(trajectory: Trajectory, case: object) -> Verdict:
    ok = bool(trajectory.final_answer)
    return Verdict(check="answered", status=VerdictStatus.PASSED if ok else VerdictStatus.FAILED)


def _crashes(trajectory: Trajectory, case: object) -> Verdict:
    raise RuntimeError("boom")


def test_registered_checks_run_and_a_crash_is_an_errored_verdict(clean_registry: None) -> None:
    registry.trace_check("answered")(_answered)
    registry.trace_check("crashes")(_crashes)
    trajectory = Trajectory(case_id="t", steps=[AssistantMessage(content="hi")], final_answer="hi")
    verdicts = {v.check: v for v in registry.score_trace(trajectory)}
    assert verdicts["answered"].status is VerdictStatus.PASSED
    assert verdicts["crashes"].status is VerdictStatus.ERRORED
    assert "RuntimeError: boom" in verdicts["crashes"].reason
    empty = Trajectory(case_id="t")
    assert (
        registry.score_trace(empty, checks=registry.resolve(["answered"]))[0].status is VerdictStatus.FAILED
    )


def test_unknown_names_are_refused_with_the_known_ones(clean_registry: None) -> None:
    registry.trace_check("answered")(_answered)
    with pytest.raises(registry.UnknownCheckError, match=r"unknown check\(s\) 'nope'; known: answered"):
        registry.resolve(["nope"])
    with pytest.raises(ValueError, match="registered twice"):
        registry.trace_check("answered")(_crashes)
