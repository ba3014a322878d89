"""A regression run's verdict as its Prefect state: Failed with the verdict line, tags, and errors apart."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.states import State

from trailcheck.analysis.verdict import (
    FailRunOn,
    RunVerdict,
    VerdictFailedRun,
    fails_run,
    live_line,
    run_verdict,
    verdict_line,
)
from trailcheck.flows.regression import regression
from trailcheck.models import CaseSummary, Comparison, LiveRunResult, Regression, RunResult

SUITE = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"


def _run(passes: list[int], regressions: list[str] = (), error: str | None = None) -> RunResult:
    cases = [
        CaseSummary(case_id=f"case-{i}", trials=1, passes=p, pass_at_1=float(p), reason="" if p else "wrong")
        for i, p in enumerate(passes)
    ]
    comparison = Comparison(
        baseline_run_id="b1",
        baseline_version="v1",
        baseline_pass_at_1=1.0,
        regressions=[
            Regression(case_id=c, baseline_pass_rate=1.0, current_pass_rate=0.0, reason="wrong")
            for c in regressions
        ],
        error=error,
    )
    return RunResult(
        run_id="r1",
        suite="support-desk",
        suite_version="1",
        agent_version="v2",
        trials=1,
        started_at=datetime(2026, 12, 1, tzinfo=UTC),
        cases=cases,
        pass_at_1=sum(passes) / len(passes),
        comparison=comparison,
    )


@pytest.mark.parametrize(
    ("run", "verdict"),
    [
        (_run([1, 1]), RunVerdict.PASS),
        (_run([1, 0]), RunVerdict.FAIL),
        (_run([1, 0], regressions=["case-1"]), RunVerdict.REGRESSED),
        (_run([1, 1], error="database down"), RunVerdict.FAIL),
    ],
)
def test_the_verdict_of_a_run(run: RunResult, verdict: RunVerdict) -> None:
    assert run_verdict(run) is verdict
    assert verdict_line(run).startswith(f"{verdict.value.upper()} support-desk on v2: ")


def test_the_verdict_line_names_the_regressions_and_the_rates() -> None:
    line = verdict_line(_run([0, 0, 0, 0, 1], regressions=["case-0", "case-1", "case-2", "case-3"]))
    assert line == (
        "REGRESSED support-desk on v2: 4 regression(s) vs v1 (case-0, case-1, case-2, ...), "
        "pass@1 20.0% (was 100.0%)"
    )
    assert (
        verdict_line(_run([1, 0]))
        == "FAIL support-desk on v2: 1 of 2 case(s) not passing, pass@1 50.0% (was 100.0%)"
    )
    assert "no comparison with v1: database down" in verdict_line(_run([1, 1], error="database down"))
    assert "\n" not in verdict_line(_run([0], regressions=["case-0\nwith a newline"]))


@pytest.mark.parametrize(
    ("fail_run_on", "failing"),
    [
        (FailRunOn.REGRESSION_OR_FAILURE, {RunVerdict.FAIL, RunVerdict.REGRESSED}),
        (FailRunOn.REGRESSION, {RunVerdict.REGRESSED}),
        (FailRunOn.FAILURE, {RunVerdict.FAIL}),
        (FailRunOn.NEVER, set()),
    ],
)
def test_which_verdicts_fail_the_run(fail_run_on: FailRunOn, failing: set[RunVerdict]) -> None:
    assert {v for v in RunVerdict if fails_run(v, fail_run_on)} == failing


def test_a_failed_verdict_keeps_the_result_through_pickling() -> None:
    import pickle

    failed = pickle.loads(pickle.dumps(VerdictFailedRun(_run([0], regressions=["case-0"]))))
    assert failed.run.run_id == "r1" and str(failed).startswith("REGRESSED")


# Under a real Prefect API: the state, its message and the tags the run list filters by.


def _tags(state: State) -> set[str]:
    with get_client(sync_client=True) as client:
        return set(client.read_flow_run(state.state_details.flow_run_id).tags)


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('verdict') / 'results.db'}"


@pytest.mark.usefixtures("prefect_harness")
def test_pass_completes_and_regressions_fail_the_run_with_the_verdict_as_message(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_HTML_REPORTS", "on")
    monkeypatch.setenv("TRAILCHECK_REPORT_DIR", str(tmp_path / "reports"))
    common = {"suite": str(SUITE), "database_url": sqlite_url, "notify": False}
    passed = regression(agent="reference:v1", **common, return_state=True)
    assert passed.type.value == "COMPLETED", passed.message
    assert passed.message.startswith("PASS support-desk on reference-v1: pass@1 100.0%")
    assert {"verdict:pass", "trigger:manual"} <= _tags(passed)
    run = passed.result()
    assert run.ok
    # The HTML report is linked from the run's artifacts; the summary card's description is the verdict.
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[passed.state_details.flow_run_id]))
        )
    by_key = {a.key: a for a in artifacts}
    report_link = by_key["regression-support-desk-report"].data
    page = tmp_path / "reports" / f"support-desk-{run.run_id}.html"
    assert report_link == f"[HTML report of support-desk on reference-v1]({page.as_uri()})"
    assert 'data-verdict="pass"' in page.read_text(encoding="utf-8")
    assert by_key["regression-support-desk-summary"].description == passed.message

    regressed = regression(agent="reference:v2", baseline_version="reference-v1", **common, return_state=True)
    assert regressed.type.value == "FAILED" and regressed.name == "Failed"
    assert regressed.message.startswith("REGRESSED support-desk on reference-v2: ")
    assert "regression(s) vs reference-v1" in regressed.message
    assert "verdict:regressed" in _tags(regressed)
    failed = regressed.result(raise_on_failure=False)
    assert isinstance(failed, VerdictFailedRun) and failed.run.comparison.regressions
    with pytest.raises(VerdictFailedRun) as raised:  # called in-process, the flow raises it
        regression(agent="reference:v2", baseline_version="reference-v1", **common)
    assert raised.value.run.suite == "support-desk"

    tolerated = regression(
        agent="reference:v2",
        baseline_version="reference-v1",
        fail_run_on="failure",
        **common,
        return_state=True,
    )
    assert tolerated.type.value == "COMPLETED" and tolerated.message.startswith("REGRESSED")
    assert "verdict:regressed" in _tags(tolerated)


@pytest.mark.usefixtures("prefect_harness")
def test_a_broken_pipeline_fails_differently_and_carries_no_verdict(sqlite_url: str, tmp_path: Path) -> None:
    state = regression(
        suite=str(tmp_path / "no-such-suite.yaml"), database_url=sqlite_url, notify=False, return_state=True
    )
    assert state.type.value == "FAILED"
    assert state.message.startswith("Flow run encountered an exception")
    assert not [t for t in _tags(state) if t.startswith("verdict:")]


def _live(**fields: object) -> LiveRunResult:
    return LiveRunResult(
        run_id="l1", source="prod.jsonl", started_at=datetime(2026, 12, 1, tzinfo=UTC), **fields
    )


def test_the_live_headline_agrees_with_the_failure_rate() -> None:
    from trailcheck.render.slack_live import render_live_message

    failing = _live(read=2040, sampled=102, failed=20)
    assert live_line(failing) == (
        "Live sampling failing traces: prod.jsonl: 20 of 102 sampled trace(s) failing (19.6%), 0 anomalies"
    )
    message = render_live_message(failing)
    header = message.blocks[0]["text"]["text"]
    assert "healthy" not in header and "failing traces" in header
    assert "*Review*\\noff" in str(message.blocks) and "pending" not in str(message.blocks)
    healthy = _live(read=2040, sampled=102)
    assert live_line(healthy).startswith("Live sampling healthy: prod.jsonl: 0 of 102")
    assert "✅ Live sampling healthy" in render_live_message(healthy).blocks[0]["text"]["text"]
    nothing = _live(nothing_read="nothing to sample: prod.jsonl holds no traces")
    assert live_line(nothing) == "Live sampling: nothing to sample: prod.jsonl holds no traces"
