"""The `trailcheck` command: exit codes, messages, reports, and the demo."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.cli import app

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A results DB of the test's own (the CLI's default SQLite file lives under TRAILCHECK_HOME)."""
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 200)  # keep table cells on one line for the assertions
    return tmp_path


def test_validate(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["validate", SUITE])
    assert ok.exit_code == 0 and "11 cases" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncases:\n  - id: a\n    turns: [hi]\n    expectations: {final_answr: {}}\n")
    result = runner.invoke(app, ["validate", SUITE, str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:5: case 'a', expectations.final_answr: unknown field" in result.output
    assert "did you mean 'final_answer'?" in result.output


def test_schema_is_json_schema(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema"])
    document = json.loads(result.output)
    assert document["$schema"].endswith("2020-12/schema") and "cases" in document["properties"]
    runner.invoke(app, ["schema", "-o", str(tmp_path / "s.json")])
    assert json.loads((tmp_path / "s.json").read_text()) == document


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "missing.yaml"], "file not found"),
        (["run", SUITE, "--agent", "reference:v7"], "unknown reference agent 'reference:v7'"),
        (["run", SUITE, "--agent", "ftp://x"], "cannot tell what agent"),
        (["run", SUITE, "--agent", "nope.yaml"], "agent file not found"),
        (["run", SUITE, "--trials", "0"], "--trials"),
    ],
)
def test_bad_input_exits_2(args: list[str], fragment: str, home: Path) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert not (home / "results.db").exists() or not db.list_runs(db.get_engine())


@pytest.mark.usefixtures("prefect_harness")
def test_run_passes_then_regression_fails_the_gate(home: Path) -> None:
    report = home / "report.json"
    ok = runner.invoke(
        app, ["run", SUITE, "--agent", "reference:v1", "--trials", "2", "--report-json", str(report)]
    )
    assert ok.exit_code == 0, ok.output
    assert "PASS suite support-desk" in ok.output and "pass^2 100.0%" in ok.output
    written = json.loads(report.read_text())
    assert written["pass_hat_k"] == {"1": 1.0, "2": 1.0} and len(written["cases"]) == 11
    bad = runner.invoke(app, ["run", SUITE, "--agent", "reference:v2", "--baseline", "reference-v1"])
    assert bad.exit_code == 1
    assert "regression(s)" in bad.output and "refund-provider-down" in bad.output
    runs = db.list_runs(db.get_engine())
    assert [r.agent_version for r in runs] == ["reference-v2", "reference-v1"]


def test_agent_down_is_one_line_before_the_run(home: Path) -> None:
    """An agent URL nothing listens on is probed first: one line, no run, no errored row per case."""
    result = runner.invoke(app, ["run", SUITE, "--agent", "http://127.0.0.1:1/chat"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "cannot reach the agent at http://127.0.0.1:1/chat" in lines[0] and "ssl:default" not in lines[0]
    assert not (home / "results.db").exists() or not db.list_runs(db.get_engine())


@pytest.mark.usefixtures("prefect_harness")
def test_demo_shows_v2_regressions(home: Path) -> None:
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "against reference-v1" in text and "5 regression(s)" in text
    assert "silent_error" in text and "diverges at step 1" in text
    assert len(db.list_runs(db.get_engine())) == 2
