"""Bad input of a brought agent: exit 2 and one line naming the module, program or file, before
anything runs or is recorded."""

import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.cli import app

runner = CliRunner()
SUITE = "name: byo\ncases:\n  - id: hello\n    turns: [hi]\n"
CUSTOM = (
    "name: byo\ncases:\n  - id: hello\n    turns: [hi]\n    expectations:\n"
    "      custom: [{check: team_checks.Polite}]\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAILCHECK_AGENT_PATH", raising=False)
    monkeypatch.setattr(cli.err, "width", 400)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "suite.yaml").write_text(SUITE)
    return tmp_path


def _one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    return lines[0]


def test_unimportable_python_target_exits_2_naming_the_module_and_the_fix(folder: Path) -> None:
    started = time.perf_counter()
    result = runner.invoke(app, ["run", "suite.yaml", "--agent", "python:support_bot.entry:handle"])
    assert result.exit_code == 2
    line = _one_error_line(result.output)
    assert "No module named 'support_bot'" in line and "--agent-path DIR" in line and "PYTHONPATH" in line
    assert time.perf_counter() - started < 10  # found before Prefect or anything else starts
    assert not (folder / "home" / "results.db").exists()


def test_custom_check_module_found_through_agent_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "suite.yaml").write_text(CUSTOM)
    checks = folder / "team"
    checks.mkdir()
    (checks / "team_checks.py").write_text(
        "class Polite:\n    name = 'polite'\n    def evaluate(self, ctx):\n        return True\n"
    )
    monkeypatch.setattr(sys, "path", list(sys.path))  # --agent-path extends it for this process
    result = runner.invoke(app, ["run", "suite.yaml", "--agent", "python:support_bot:handle"])
    assert result.exit_code == 2
    # The suite's own format: a header, then one line per problem with file:line.
    [line] = [x for x in result.output.splitlines() if x.startswith("suite.yaml:6: ")]
    assert "cannot import module 'team_checks'" in line and "--agent-path DIR" in line
    # With the folder given, the suite loads; what stops the run now is the agent, checked next.
    result = runner.invoke(
        app, ["run", "suite.yaml", "--agent", "python:support_bot:handle", "--agent-path", str(checks)]
    )
    assert result.exit_code == 2
    assert "No module named 'support_bot'" in _one_error_line(result.output)


@pytest.mark.parametrize(
    ("agent_file", "fragment"),
    [
        (
            "kind: command\ncommand: [no-such-agent-server, --port, '{port}']\n",
            "program 'no-such-agent-server' not found",
        ),
        ("kind: command\ncommand: [python]\npath: chat\n", "agent.yaml:3: path: String should match pattern"),
        (
            "kind: command\ncommand: [python]\nrequest_template: {q: '{{context.id:long}}'}\n",
            "unknown type 'long'",
        ),
        ("kind: python\ntarget: nowhere_agent:handle\n", "No module named 'nowhere_agent'"),
    ],
)
def test_agent_file_problems_exit_2_before_anything_runs(
    folder: Path, agent_file: str, fragment: str
) -> None:
    (folder / "agent.yaml").write_text(agent_file)
    result = runner.invoke(app, ["run", "suite.yaml", "--agent", "agent.yaml"])
    assert result.exit_code == 2
    assert fragment in _one_error_line(result.output)


def test_a_python_target_needs_a_gateway_for_faults(folder: Path) -> None:
    (folder / "suite.yaml").write_text(SUITE + "    faults: [{kind: http_500}]\n")
    (folder / "bot.py").write_text("def handle(request):\n    return {'reply': 'hi'}\n")
    result = runner.invoke(app, ["run", "suite.yaml", "--agent", "python:bot:handle"])
    assert result.exit_code == 2
    assert "has no tool gateway: give --gateway UPSTREAM_URL" in _one_error_line(result.output)


@pytest.mark.usefixtures("prefect_harness")
def test_an_agent_that_dies_at_start_exits_2_with_what_it_printed(folder: Path) -> None:
    (folder / "agent.yaml").write_text(
        "kind: command\n"
        "command: ['{python}', -c, \"print('OPENAI_API_KEY is not set'); raise SystemExit(4)\"]\n"
    )
    result = runner.invoke(app, ["run", "suite.yaml", "--agent", "agent.yaml"])
    assert result.exit_code == 2, result.output
    assert "error: agent command" in result.output and "exited with code 4" in result.output
    assert "OPENAI_API_KEY is not set" in result.output
    engine = db.get_engine(db.database_url(None))
    assert db.load_case_results(engine, "any") == []
