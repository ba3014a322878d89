"""The long-session test: fillers, session cases, the retention curve through the real flow and CLI."""

import asyncio
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.window_agent import create_window_agent
from trailcheck import cli, db
from trailcheck.cli import app
from trailcheck.loading.suite import load_suite
from trailcheck.models import FailureCategory, RetentionPoint, RetentionReport
from trailcheck.models.case import CASE_ID_PATTERN
from trailcheck.render.markdown_retention import render_markdown
from trailcheck.serving import serve_in_thread
from trailcheck.variants.long_session import (
    FILLERS,
    ScenarioError,
    build_sessions,
    filler_turns,
    parse_ramp,
    select_scenarios,
    session_case,
)

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "suites" / "long-session.yaml"
SNAPSHOT = Path(__file__).parent / "snapshots" / "retention.md"
runner = CliRunner()
# Words that would make a filler ask for something (an action, a person, the customer's data).
NOT_NEUTRAL = re.compile(
    r"refund|money back|reimburse|cancel|human|person|manager|agent|account|e-?mail|address|profile|"
    r"password|delete|complain|order|\d|[$€£]",
    re.IGNORECASE,
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 200)
    return tmp_path


def test_fillers_are_neutral_varied_and_seeded() -> None:
    assert [f for f in FILLERS if NOT_NEUTRAL.search(f)] == []
    forty = filler_turns(40, seed=0)
    assert len(set(forty)) == 40  # no repeats while the pool lasts
    assert forty == filler_turns(40, seed=0) and forty != filler_turns(40, seed=1)
    assert filler_turns(10, seed=0) == forty[:10]  # a longer session extends a shorter one
    assert len(filler_turns(len(FILLERS) + 5)) == len(FILLERS) + 5
    with pytest.raises(ValueError, match="at least 0"):
        filler_turns(-1)


def test_session_case_puts_fillers_between_plant_and_probe() -> None:
    scenario = load_suite(SCENARIOS).case("remembers-order")
    variant, plan = session_case(scenario, 5, seed=3)
    case = variant.case
    assert re.match(CASE_ID_PATTERN, case.id) and case.id == "remembers-order:fillers-5"
    texts = [t.content for t in case.turns]
    assert texts[0] == scenario.turns[0].content and texts[-1] == scenario.turns[-1].content
    assert texts[1:-1] == filler_turns(5, seed=3)
    assert (plan.fillers, plan.turns, plan.scenario) == (5, 7, "remembers-order")
    assert case.failure_category is FailureCategory.CONTEXT_SATURATION
    assert "long-session" in case.tags and "fillers-5" in case.tags
    # What grows with the session is dropped; what judges the probe is kept.
    assert case.expectations.budgets is None and case.expectations.max_tool_calls is None
    assert case.expectations.tool_calls == scenario.expectations.tool_calls
    assert case.timeout_s == pytest.approx(30.0 * 7 / 2)
    ids = [v.case.id for v, _ in build_sessions([scenario], [0, 10, 5])]
    assert ids == ["remembers-order:fillers-0", "remembers-order:fillers-10", "remembers-order:fillers-5"]


def test_ramp_and_scenario_errors_say_where_and_how_to_fix(tmp_path: Path) -> None:
    assert parse_ramp("10, 0,5,5") == [0, 5, 10]
    for bad, fragment in [
        ("0,x", "'x' is not a whole number"),
        ("-1", "not a whole number"),
        ("5000", "limit"),
    ]:
        with pytest.raises(ScenarioError, match=fragment) as info:
            parse_ramp(bad)
        assert "fix:" in str(info.value)
    suite_file = tmp_path / "s.yaml"
    suite_file.write_text("name: s\ncases:\n  - id: one\n    turns: [hi]\n  - id: two\n    turns: [hi]\n")
    suite = load_suite(suite_file)
    with pytest.raises(
        ScenarioError, match=rf"{re.escape(str(suite_file))}:5: case 'two', turns: has 1 turn"
    ):
        select_scenarios(suite, suite_file, "two")
    with pytest.raises(ScenarioError, match=r"no case 'nope'(.|\n)*use one of: one, two"):
        select_scenarios(suite, suite_file, "nope")
    with pytest.raises(ScenarioError, match="no case has two turns or more"):
        select_scenarios(suite, suite_file, None)


def test_retention_markdown_snapshot() -> None:
    report = RetentionReport(
        suite="long-session-long-session",
        scenarios=["remembers-order"],
        agent_version="window-4",
        run_id="abc123",
        threshold=1.0,
        points=[
            RetentionPoint(fillers=0, turns=2, passes=2, trials=2),
            RetentionPoint(
                fillers=3, turns=5, passes=1, trials=2, reason="remembers-order:fillers-3: *x* | y"
            ),
            RetentionPoint(fillers=8, turns=10, passes=0, trials=2, reason="remembers-order:fillers-8: no"),
        ],
    )
    assert report.fails_from_fillers == 3 and not report.ok
    rendered = render_markdown(report)
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "retention artifact changed: review, then UPDATE_SNAPSHOTS=1"


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(("window", "ramp", "expected"), [(4, [0, 2, 3, 8], [1.0, 1.0, 0.0, 0.0]),
                                                          (6, [0, 4, 5], [1.0, 1.0, 0.0])])  # fmt: skip
def test_flow_curve_drops_exactly_where_the_window_ends(
    window: int, ramp: list[int], expected: list[float], tmp_path: Path
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    from trailcheck.flows.long_session import long_session
    from trailcheck.variants.perturb import render_suite

    suite = load_suite(SCENARIOS)
    built = build_sessions(select_scenarios(suite, SCENARIOS, None), ramp)
    sessions = tmp_path / "sessions.yaml"
    sessions.write_text(render_suite(suite, [v for v, _ in built], [], name=f"window-{window}-sessions"))
    url = f"sqlite:///{tmp_path / 'results.db'}"
    with serve_in_thread(create_window_agent(window)) as base:
        report = long_session(
            suite=str(sessions), plans=[p for _, p in built], agent=f"{base}/chat",
            agent_version=f"window-{window}", trials=2, database_url=url,
        )  # fmt: skip
    assert [p.pass_rate for p in report.points] == expected
    first = report.first_failing
    assert first is not None and first.turns == window + 1  # the first session the window cannot hold
    assert "which order" in first.reason.lower() or "issue_refund" in first.reason
    assert report.failure_category is FailureCategory.CONTEXT_SATURATION
    # The replay went through the regression flow: its run is in the results database.
    assert [r.run_id for r in db.list_runs(db.get_engine(url))] == [report.run_id]

    async def artifact() -> str:
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=[f"long-session-window-{window}-sessions-retention"])
                ),
                sort=ArtifactSort.CREATED_DESC,
            )
            return str(found[0].data)

    markdown = asyncio.run(artifact())
    assert f"starts to fail at N={first.fillers} filler turns" in markdown and f"window-{window}" in markdown


@pytest.mark.usefixtures("prefect_harness")
def test_cli_json_exit_codes_and_v1_is_flat(home: Path) -> None:
    with serve_in_thread(create_window_agent(4)) as base:
        result = runner.invoke(
            app,
            ["long-session", f"{SCENARIOS}#remembers-order", "--agent", f"{base}/chat", "--ramp", "0,3",
             "--trials", "1", "--json", "--out", str(home / "kept.yaml")],
        )  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout[result.stdout.index("{") :])
    assert document["fails_from_fillers"] == 3 and document["ok"] is False
    assert [p["pass_rate"] for p in document["points"]] == [1.0, 0.0]
    assert len(load_suite(home / "kept.yaml").cases) == 2  # the sessions suite was kept for review

    flat = runner.invoke(app, ["long-session", str(SCENARIOS), "--ramp", "0,10,20", "--trials", "1"])
    assert flat.exit_code == 0, flat.output
    text = " ".join(flat.output.split())
    assert "retained: pass rate at or above 100% up to 20 filler turns (22-turn sessions)" in text


@pytest.mark.usefixtures("prefect_harness")
def test_agent_down_is_integration_not_context_saturation(home: Path) -> None:
    result = runner.invoke(
        app,
        [
            "long-session",
            str(SCENARIOS),
            "--agent",
            "http://127.0.0.1:1/chat",
            "--ramp",
            "0,2",
            "--trials",
            "1",
        ],
    )
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert (
        "errored at N=0 filler turns" in text and "[integration]" in text and "context_saturation" not in text
    )


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--ramp", "0,five"], "'five' is not a whole number"),
        (["--out", str(SCENARIOS)], "already exists"),
        (["--case", "nope"], "no case 'nope'"),
        (["--threshold", "1.5"], "--threshold"),
        (["--agent", "reference:v9"], "unknown reference agent"),
        (["--out", "/no/such/dir/x.yaml"], "does not exist"),
    ],
)
def test_cli_bad_input_exits_2(args: list[str], fragment: str, home: Path) -> None:
    result = runner.invoke(app, ["long-session", str(SCENARIOS), *args])
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())


@pytest.mark.usefixtures("prefect_harness")
def test_readme_example_with_the_python_window_agent(home: Path) -> None:
    agent = "python:tests.window_agent:four_turn_memory"
    result = runner.invoke(app, ["long-session", str(SCENARIOS), "--agent", agent, "--ramp", "0,2,3,8"])
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert (
        "starts to fail at N=3 filler turns (5-turn session): pass rate 0% < 100%; held through N=2" in text
    )
