"""The CI gate: JUnit XML from `trailcheck run --junit`, and `trailcheck notify-change`."""

import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from trailcheck import cli
from trailcheck.cli import app
from trailcheck.cli.notify_change import agent_resource_id, change_event
from trailcheck.models import CaseShift, CaseSummary, Comparison, FailureCategory, Regression, RunResult
from trailcheck.render.junit import render_junit

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 200)
    return tmp_path


def gate_run() -> RunResult:
    cases = [
        CaseSummary(case_id="ok", trials=3, passes=3, pass_at_1=1.0, latency_s=0.25),
        CaseSummary(
            case_id="broken",
            trials=3,
            passes=0,
            pass_at_1=0.0,
            failure_category=FailureCategory.SILENT_ERROR,
            reason="final_answer: said 'done' \x00\x1b<b>&</b>",
        ),
        CaseSummary(
            case_id="flaky", trials=3, passes=2, pass_at_1=2 / 3, reason="final_answer: missing 'hi'"
        ),
        CaseSummary(
            case_id="down", trials=3, passes=0, errored=3, pass_at_1=0.0, reason="agent errored: refused"
        ),
    ]
    shift = CaseShift(
        case_id="broken", baseline_passes=3, baseline_trials=3, passes=0, trials=3, adjusted_p_value=0.2
    )
    return RunResult(
        run_id="r2",
        suite="support-desk",
        suite_version="1",
        agent_version="m@p2",
        trials=3,
        started_at=datetime(2026, 11, 25, tzinfo=UTC),
        cases=cases,
        pass_at_1=5 / 12,
        pass_hat_k={1: 5 / 12, 3: 0.25},
        labels={"model": "m", "prompt_version": "p2"},
        comparison=Comparison(
            baseline_run_id="r1",
            baseline_version="m@p1",
            regressions=[
                Regression(
                    case_id="broken",
                    baseline_pass_rate=1.0,
                    current_pass_rate=0.0,
                    reason=cases[1].reason,
                    shift=shift,
                )
            ],
            flaky=[CaseShift(case_id="flaky", baseline_passes=3, baseline_trials=3, passes=2, trials=3)],
        ),
    )


def test_junit_has_a_testcase_per_case_and_failures_with_reasons() -> None:
    root = ET.fromstring(render_junit(gate_run()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "support-desk"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "1", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == ["ok", "broken", "flaky", "down"]
    assert len(cases["ok"]) == 0 and cases["ok"].get("time") == "0.250"
    failure = cases["broken"].find("failure")
    assert failure is not None and failure.get("type") == "silent_error"
    assert failure.get("message") == "regression: final_answer: said 'done' <b>&</b>"  # control chars dropped
    assert "regression against m@p1: was 3/3, adjusted p=0.2" in (failure.text or "")
    assert cases["flaky"].find("failure") is None
    assert "flaky, tolerated" in (cases["flaky"].findtext("system-out") or "")
    error = cases["down"].find("error")
    assert error is not None and error.get("message") == "agent errored: refused"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["verdict"] == "fail" and props["baseline_version"] == "m@p1" and props["label.model"] == "m"


@pytest.mark.usefixtures("prefect_harness")
def test_run_writes_junit_and_blocks_on_regressions(home: Path) -> None:
    good = runner.invoke(app, ["run", SUITE, "--agent", "reference:v1", "--junit", str(home / "v1.xml")])
    assert good.exit_code == 0, good.output
    root = ET.parse(home / "v1.xml").getroot()
    assert root.get("tests") == "11" and root.get("failures") == "0" and root.get("errors") == "0"
    bad = runner.invoke(
        app,
        [
            "run",
            SUITE,
            "--agent",
            "reference:v2",
            "--baseline",
            "reference-v1",
            "--junit",
            str(home / "ci/v2.xml"),
        ],
    )
    assert bad.exit_code == 1, bad.output
    root = ET.parse(home / "ci" / "v2.xml").getroot()
    failures = {
        c.get("name"): c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None
    }
    assert "refund-provider-down" in failures and int(root.get("failures") or 0) == len(failures)
    message = failures["refund-provider-down"].get("message") or ""
    assert message.startswith("regression: ") and "processed" in message


def test_change_event_shape() -> None:
    event = change_event("gpt-x", "p3", "https://agents.internal:8443/support/chat")
    assert event["event"] == "trailcheck.agent.changed"
    assert event["payload"] == {
        "model": "gpt-x",
        "prompt_version": "p3",
        "agent": "https://agents.internal:8443/support/chat",
    }
    assert event["resource"]["prefect.resource.id"] == "trailcheck.agent.agents-internal-8443-support-chat"
    assert event["id"] and event["occurred"]
    assert agent_resource_id("HTTP://A/") == "trailcheck.agent.a"


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (
            ["--model", "m", "--prompt-version", "p", "--agent", "reference:v1"],
            2,
            "must be the agent's http(s) URL",
        ),
        (
            ["--model", " ", "--prompt-version", "p", "--agent", "http://a/chat"],
            2,
            "--model must not be empty",
        ),
        (
            [
                "--model",
                "m",
                "--prompt-version",
                "p",
                "--agent",
                "http://a/chat",
                "--api-url",
                "http://127.0.0.1:1/api",
            ],
            1,
            "could not reach the Prefect API at http://127.0.0.1:1/api/events",
        ),
    ],
)
def test_notify_change_bad_input_and_unreachable_api(args: list[str], code: int, fragment: str) -> None:
    result = runner.invoke(app, ["notify-change", *args])
    assert result.exit_code == code, result.output
    assert fragment in " ".join(result.output.split())


@pytest.mark.usefixtures("prefect_harness")
def test_notify_change_reaches_the_prefect_api() -> None:
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    result = runner.invoke(
        app,
        [
            "notify-change",
            "--model",
            "gpt-ci",
            "--prompt-version",
            "p77",
            "--agent",
            "http://127.0.0.1:9/chat",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "sent trailcheck.agent.changed" in result.output

    def stored() -> list[dict]:
        body = {"filter": {"event": {"name": ["trailcheck.agent.changed"]}}, "limit": 10}
        events = httpx.post(f"{api}/events/filter", json=body, timeout=10).json()["events"]
        return [e for e in events if e["payload"].get("prompt_version") == "p77"]

    deadline = time.monotonic() + 30
    while not stored() and time.monotonic() < deadline:
        time.sleep(0.5)
    [event] = stored()
    assert event["payload"] == {
        "model": "gpt-ci",
        "prompt_version": "p77",
        "agent": "http://127.0.0.1:9/chat",
    }
