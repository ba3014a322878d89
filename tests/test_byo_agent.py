"""Bring your own agent, end to end, with the commands of the README's section as written there.

A real pydantic-ai agent (its FunctionModel: no LLM) served by FastAPI with its own HTTP tool
service (examples/byo_agent/), started by trailcheck from its `kind: command` agent file, its
tools routed through the gateway; a suite and a fault matrix replayed through the regression
flow; the stored trajectories hold the tool calls the gateway observed, with typed arguments.
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.cli import app
from trailcheck.cli import faults as faults_module
from trailcheck.models import ToolCall

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "byo_agent"
runner = CliRunner()


def readme_commands() -> list[str]:
    """The shell block of "## Bring your own agent", comments stripped."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Bring your own agent") :]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block is not None
    lines = [line.split("  #", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, list[str]]]:
    """The example copied to an empty folder, its tool service started as the README says (on a free
    port), and the trailcheck commands left to run."""
    commands = readme_commands()
    assert commands[0] == "cd examples/byo_agent"
    folder = tmp_path / "byo_agent"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    port = free_port()
    agent_file = folder / "agent.yaml"
    agent_file.write_text(agent_file.read_text().replace("127.0.0.1:8701", f"127.0.0.1:{port}"))
    service = commands[1]
    assert service.endswith("&") and "--port 8701" in service
    argv = shlex.split(service.rstrip("& ").replace("--port 8701", f"--port {port}"))
    argv[0] = sys.executable if argv[0] == "python" else argv[0]
    tools = subprocess.Popen(argv, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").is_success:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and tools.poll() is None, "the tool service did not start"
            time.sleep(0.1)
        monkeypatch.chdir(folder)
        monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path / "home"))
        monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
        monkeypatch.setattr(cli.out, "width", 200)
        monkeypatch.setattr(faults_module.out, "width", 200)
        yield folder, commands[2:]
    finally:
        tools.terminate()
        tools.wait(10)


@pytest.mark.usefixtures("prefect_harness")
def test_readme_takes_a_pydantic_ai_agent_to_a_passing_suite_and_fault_matrix(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    _, commands = project
    assert [c.split()[:2] for c in commands] == [
        ["trailcheck", "validate"],
        ["trailcheck", "run"],
        ["trailcheck", "faults"],
    ]
    timings = {}
    outputs = {}
    for command in commands:
        argv = shlex.split(command)[1:]
        if argv[0] == "run":
            argv += ["--report-json", str(tmp_path / "run.json")]
        started = time.perf_counter()
        result = runner.invoke(app, argv)
        timings[argv[0]] = time.perf_counter() - started
        outputs[argv[0]] = result.output
        assert result.exit_code == 0, f"{command}\n{result.output}"
    print("BYO agent timings (s):", {k: round(v, 1) for k, v in timings.items()})

    assert "PASS suite orders" in outputs["run"] and "warning" not in outputs["run"]
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["warnings"] == []
    # The agent's own output, kept on the run: uvicorn's start-up and its request log.
    assert "Application startup complete" in report["agent_output"]
    engine = db.get_engine(db.database_url(None))
    ids = ["order-status", "latest-orders", "two-turns"]
    stored = {r.case_id: r for r in db.load_case_results(engine, report["run_id"], ids)}
    calls = {cid: [s for s in stored[cid].trajectory.steps if isinstance(s, ToolCall)] for cid in ids}
    assert [(c.name, c.args, c.observed) for c in calls["order-status"]] == [
        ("lookup_order", {"order_id": "A1001"}, True)
    ]
    # limit arrived as the text '2' in the query string; the route's parameter schema types it.
    assert [(c.name, c.args) for c in calls["latest-orders"]] == [
        ("list_orders", {"customer_id": "C1", "limit": 2})
    ]
    assert calls["two-turns"][0].result["status"] == "processing"
    assert stored["order-status"].trajectory.tokens.input > 0  # mapped from usage.input_tokens

    matrix = outputs["faults"]
    assert "PASS fault matrix of orders" in matrix, matrix
    for kind in ("http_500", "timeout", "malformed_json", "schema_break", "empty_result"):
        row = next(line for line in matrix.splitlines() if f" {kind} " in line)
        assert re.findall(r"(\d+)/(\d+)", row) and all(a == b for a, b in re.findall(r"(\d+)/(\d+)", row)), (
            row
        )
    # The agent's process was stopped when the run ended.
    pid = int(re.search(r"Started server process \[(\d+)\]", report["agent_output"]).group(1))  # type: ignore[union-attr]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
