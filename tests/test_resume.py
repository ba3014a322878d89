"""A replay killed with SIGKILL in the middle is resumed with `trailcheck run --resume RUN_ID`.

The killed run is a real `trailcheck run` process; the agent is a real HTTP server that counts the
messages it receives, so the test sees which trials ran again.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.serving import serve_in_thread

pytestmark = pytest.mark.usefixtures("prefect_harness")
N_CASES = 40
received: Counter[str] = Counter()


def slow_agent() -> Starlette:
    async def chat(request: Request) -> JSONResponse:
        body = await request.json()
        received[body["message"]] += 1
        await asyncio.sleep(0.1)
        return JSONResponse({"reply": f"done: {body['message']}"})

    return Starlette(routes=[Route("/chat", chat, methods=["POST"])])


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    with serve_in_thread(slow_agent()) as base:
        yield f"{base}/chat"


def write_suite(path: Path) -> Path:
    cases = "".join(f"  - id: case-{i:02d}\n    turns: [order {i}]\n" for i in range(N_CASES))
    path.write_text(f"name: resumable\nversion: '1'\ncases:\n{cases}")
    return path


def rows(url: str) -> list[tuple[str, str, int]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT run_id, case_id, trial FROM case_results"))]
    except Exception:  # the killed process may not have created the tables yet
        return []
    finally:
        engine.dispose()


def test_a_killed_run_resumes_with_only_the_missing_trials(
    tmp_path: Path, agent_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL

    suite = write_suite(tmp_path / "resumable.yaml")
    url = f"sqlite:///{tmp_path / 'results.db'}"
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "TRAILCHECK_HOME": str(tmp_path)}
    args = [sys.executable, "-m", "trailcheck.cli", "run", str(suite), "--agent", agent_url,
            "--database-url", url, "--shard-size", "5", "--concurrency", "2"]  # fmt: skip
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(rows(url)) < 10:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no results were written within 60 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    before = rows(url)
    assert 10 <= len(before) < N_CASES, "killed in the middle"
    run_id = before[0][0]
    assert db.run_status(db.get_engine(url), run_id) is db.RunStatus.RUNNING  # visible as interrupted
    received.clear()

    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    result = CliRunner().invoke(
        cli.app, ["run", str(suite), "--agent", agent_url, "--database-url", url, "--resume", run_id]
    )
    assert result.exit_code == 0, result.output
    done_before = {case_id for _, case_id, _ in before}
    rerun = {f"case-{int(message.split()[-1]):02d}" for message in received}
    assert rerun == {f"case-{i:02d}" for i in range(N_CASES)} - done_before  # only the missing ones
    assert all(n == 1 for n in received.values())
    after = rows(url)
    assert sorted(after) == sorted({(run_id, f"case-{i:02d}", 0) for i in range(N_CASES)})  # each once
    stored = db.get_run(db.get_engine(url), run_id)
    assert stored is not None and len(stored.cases) == N_CASES and stored.pass_at_1 == 1.0
    assert db.run_status(db.get_engine(url), run_id) is db.RunStatus.COMPLETED
    assert run_id in result.output


@pytest.mark.parametrize(
    ("run_id", "fragment"),
    [("nope", "no run 'nope'"), ("done", "already completed")],
)
def test_resume_refuses_what_cannot_be_resumed(
    tmp_path: Path, run_id: str, fragment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from trailcheck.models import RunResult

    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    suite = write_suite(tmp_path / "resumable.yaml")
    url = f"sqlite:///{tmp_path / 'results.db'}"
    engine = db.get_engine(url)
    done = RunResult(run_id="done", suite="resumable", suite_version="1", agent_version="a", trials=1,
                     started_at=datetime.now(UTC))  # fmt: skip
    db.start_run(engine, done)
    db.finish_run(engine, done)
    result = CliRunner().invoke(cli.app, ["run", str(suite), "--database-url", url, "--resume", run_id])
    assert result.exit_code == 2
    assert fragment in " ".join(result.output.split())
