"""What a new user meets in the first ten minutes: refusals with one clear line, help, narrow output."""

import io
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.cli import app
from trailcheck.cli.faults import print_matrix
from trailcheck.models import CaseSummary, FailureCategory, RunResult
from trailcheck.models.fault import FaultKind
from trailcheck.models.fault_matrix import FaultCell, FaultMatrix
from trailcheck.render.console import print_run

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
runner = CliRunner()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 200)
    return tmp_path


def _one_line(output: str) -> str:
    return " ".join(output.split())


def _record_run(label: str, ok: bool) -> None:
    cases = [CaseSummary(case_id="a", trials=1, passes=int(ok), pass_at_1=float(ok))]
    run = RunResult(
        run_id=f"run-{label}",
        suite="support-desk",
        suite_version="1",
        agent_version=label,
        trials=1,
        started_at=datetime(2026, 11, 1, tzinfo=UTC),
        cases=cases,
        pass_at_1=float(ok),
        pass_hat_k={1: float(ok)},
    )
    engine = db.get_engine()
    db.start_run(engine, run)
    db.finish_run(engine, run)


def test_unknown_baseline_label_is_exit_2_with_the_known_labels(home: Path) -> None:
    _record_run("m@p1", ok=True)
    _record_run("m@p2", ok=False)
    result = runner.invoke(app, ["run", SUITE, "--baseline", "m@p9"])
    assert result.exit_code == 2, result.output
    text = _one_line(result.output)
    assert "--baseline m@p9" in text and "known labels: m@p1, m@p2" in text
    assert len(db.list_runs(db.get_engine())) == 2  # nothing ran


def test_last_accepted_on_an_empty_database_is_exit_2(home: Path) -> None:
    result = runner.invoke(app, ["run", SUITE, "--baseline", "last-accepted"])
    assert result.exit_code == 2, result.output
    assert "no run that passed its gate" in _one_line(result.output)
    assert "no completed run of it yet" in _one_line(result.output)
    _record_run("m@p1", ok=False)  # completed, but it failed its gate: still nothing accepted
    again = runner.invoke(app, ["run", SUITE, "--baseline", "last-accepted"])
    assert again.exit_code == 2 and "known labels: m@p1" in _one_line(again.output)


@pytest.mark.usefixtures("prefect_harness")
def test_report_json_into_a_missing_folder_creates_it(home: Path) -> None:
    report = home / "reports" / "nightly" / "run.json"
    result = runner.invoke(app, ["run", SUITE, "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    assert json.loads(report.read_text())["suite"] == "support-desk"


def test_report_json_that_is_a_directory_is_refused_before_the_run(home: Path) -> None:
    result = runner.invoke(app, ["run", SUITE, "--report-json", str(home)])
    assert result.exit_code == 2 and "is a directory" in _one_line(result.output)


def test_generate_traces_on_a_directory_is_exit_2(home: Path) -> None:
    result = runner.invoke(app, ["generate-traces", str(home), "--hours", "1", "--per-hour", "1"])
    assert result.exit_code == 2
    assert "is a directory" in _one_line(result.output) and "Traceback" not in result.output


@pytest.mark.parametrize("content", ["", 'not json\n{"also": "not a trace"}\n'])
def test_score_with_no_valid_trace_is_not_green(tmp_path: Path, content: str) -> None:
    traces = tmp_path / "traces.jsonl"
    traces.write_text(content)
    result = runner.invoke(app, ["score", str(traces)])
    assert result.exit_code == 2, result.output
    assert "no valid trace to score" in _one_line(result.output)


@pytest.mark.usefixtures("prefect_harness")
def test_sample_with_no_valid_trace_is_not_green(home: Path) -> None:
    traces = home / "traces.jsonl"
    traces.write_text("")
    result = runner.invoke(app, ["sample", str(traces)])
    assert result.exit_code == 2, result.output
    assert "no valid trace was read" in _one_line(result.output)


def test_version() -> None:
    from importlib.metadata import version

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"trailcheck {version('trailcheck')}"
    # The console script answers it without importing the commands or Prefect.
    script = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "trailcheck.cli", "--version"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert script.returncode == 0 and script.stdout == result.output
    imported = {line.rsplit("|", 1)[-1].strip() for line in script.stderr.splitlines() if "|" in line}
    assert "trailcheck.cli.launcher" in imported
    assert not {"prefect", "pydantic", "trailcheck.cli.commands"} & imported


def _commands(group: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        if hasattr(command, "commands"):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))  # type: ignore[arg-type]


def test_the_help_walk_finds_the_nested_commands() -> None:
    assert len(COMMANDS) > 20 and ("server", "status") in COMMANDS and ("contracts", "check") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_states_exit_codes_without_type_noise(command: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "Exit codes:" in result.output
    assert not re.search(r"<(list\[str\]|bool|dict)", result.output), result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_run_help_names_every_reference_version_and_last_accepted() -> None:
    text = _one_line(runner.invoke(app, ["run", "--help"]).output)
    assert "reference:v1 .. reference:v6" in text and "last-accepted" in text


def _narrow() -> Console:
    return Console(file=io.StringIO(), width=80, color_system=None, legacy_windows=False)


def test_failing_cases_at_80_columns_are_a_list_with_wrapped_reasons() -> None:
    reason = "final_answer: said the refund went through although refund_payment failed with 503 " * 2
    cases = [
        CaseSummary(
            case_id="refund-provider-down",
            trials=3,
            passes=0,
            pass_at_1=0.0,
            failure_category=FailureCategory.SILENT_ERROR,
            reason=reason.strip(),
        ),
        CaseSummary(case_id="order-status", trials=3, passes=3, pass_at_1=1.0),
    ]
    run = RunResult(
        run_id="r1", suite="support-desk", suite_version="1", agent_version="reference-v2", trials=3,
        started_at=datetime(2026, 11, 1, tzinfo=UTC), cases=cases, pass_at_1=0.5, pass_hat_k={3: 0.5},
    )  # fmt: skip
    console = _narrow()
    print_run(console, run)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    lines = output.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert not any(ch in output for ch in "│┃┏━")  # a list, not a table
    head = next(i for i, line in enumerate(lines) if "refund-provider-down" in line)
    assert "failed 0/3 [silent_error]" in lines[head]
    wrapped = lines[head + 1 :]
    assert all(line.startswith(" " * 6) for line in wrapped if line.strip())
    assert _one_line(" ".join(wrapped)) == _one_line(reason)


def test_fault_matrix_headers_are_not_cut_at_80_columns() -> None:
    tools = ["lookup_order", "refund_payment", "lookup_account", "send_email", "create_ticket"]
    kinds = [FaultKind.HTTP_500, FaultKind.TIMEOUT]
    cells = [FaultCell(tool=t, kind=k, cases=2, trials=2, passed=2) for t in tools for k in kinds]
    matrix = FaultMatrix(suite="s", agent_version="v1", run_id="r", kinds=kinds, tools=tools, cells=cells)
    console = _narrow()
    print_matrix(console, matrix)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert "…" not in output and max(len(line) for line in output.splitlines()) <= 80
    assert all(f"= {tool}" in _one_line(output) for tool in tools)


def test_reference_serve_listens_on_the_given_port(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "trailcheck.cli", "reference", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/chat" in line, line
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = httpx.post(
                    f"http://127.0.0.1:{port}/chat",
                    json={"session_id": "s1", "message": "Where is my order A1002?"},
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert reply.status_code == 200 and "A1002" in reply.text
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_reference_serve_on_a_taken_port_is_exit_2() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = runner.invoke(app, ["reference", "serve", "--port", str(taken.getsockname()[1])])
    assert result.exit_code == 2 and "choose another --port" in _one_line(result.output)


def test_validation_reports_every_problem_in_one_round(tmp_path: Path) -> None:
    """Schema problems, unknown custom checks and unknown check names: all in the first answer."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: x\ncases:\n"
        "  - id: a\n    turns: [hi]\n    expectations: {final_answr: {}, checks: [silent_eror]}\n"
    )
    result = runner.invoke(app, ["validate", str(broken)])
    assert result.exit_code == 2
    text = _one_line(result.output)
    assert "(2 problems)" in text and "unknown field 'final_answr'" in text
    assert f"{broken}:5: case 'a', expectations.checks[0]: unknown check 'silent_eror'" in text
    valid_schema = tmp_path / "checks.yaml"
    valid_schema.write_text(
        "name: x\ncases:\n  - id: a\n    turns: [hi]\n    expectations:\n"
        "      checks: [silent_eror]\n      custom:\n      - check: no.such.module.Check\n"
    )
    result = runner.invoke(app, ["validate", str(valid_schema)])
    assert result.exit_code == 2
    text = _one_line(result.output)
    assert "(2 problems)" in text and "expectations.custom[0].check" in text and "'silent_eror'" in text
