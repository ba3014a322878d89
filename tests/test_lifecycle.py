"""The agent's process: started with its environment, up when healthy, output kept, always stopped.

Real processes on 127.0.0.1: a small stdlib HTTP agent written to a temp folder, and the reference
tools behind a real gateway for `python:` targets.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest

from trailcheck.agents.config import GatewaySettings, load_agent_config
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.lifecycle import (
    AgentStartError,
    ProcessSpec,
    check_python_target,
    run_agent_process,
)
from trailcheck.agents.reference.routes import REFERENCE_ROUTES
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.agents.targets import resolve_agent
from trailcheck.models import Case, FaultKind, FaultSpec, ToolCall
from trailcheck.serving import serve_in_thread

# An HTTP agent in the standard library: answers /health, and /chat with what it was started with;
# it also starts a child (sleep) that must die with it.
AGENT = r"""
import json, os, subprocess, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
print("x" * 5000, flush=True)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("child", child.pid, flush=True)
print("ready on", os.environ["TRAILCHECK_AGENT_PORT"], "secret-token-123", flush=True)
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self._send({"ok": True})
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        self._send({"reply": json.dumps({k: os.environ.get(k) for k in
            ["TRAILCHECK_AGENT_PORT", "TRAILCHECK_TOOLS_URL", "EXTRA", "TRAILCHECK_SESSION_HEADER"]})})
    def _send(self, doc):
        data = json.dumps(doc).encode()
        self.send_response(200); self.send_header("content-length", str(len(data))); self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[1].startswith("Z"))


def _wait_gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def agent_script(tmp_path: Path) -> Path:
    script = tmp_path / "agent.py"
    script.write_text(AGENT)
    return script


def test_started_with_its_environment_output_kept_and_whole_group_stopped(agent_script: Path) -> None:
    spec = ProcessSpec(
        argv=["{python}", str(agent_script), "{port}"],
        env={"EXTRA": "tools at {tools_url}"},
        tools_url="http://127.0.0.1:9/tools",
        output_bytes=1000,
    )
    with run_agent_process(spec) as process:
        reply = httpx.post(process.url("/chat"), json={}).json()["reply"]
        assert f'"TRAILCHECK_AGENT_PORT": "{process.port}"' in reply
        assert '"TRAILCHECK_TOOLS_URL": "http://127.0.0.1:9/tools"' in reply
        assert '"EXTRA": "tools at http://127.0.0.1:9/tools"' in reply
        assert '"TRAILCHECK_SESSION_HEADER": "X-Session-Id"' in reply
        deadline = time.monotonic() + 5
        while "ready on" not in process.output.text() and time.monotonic() < deadline:
            time.sleep(0.02)
        text = process.output.text()
        assert f"ready on {process.port}" in text
        # Capped: the last 1000 bytes, and a line saying how much was dropped before them.
        assert text.startswith("[... ") and "earlier bytes dropped]" in text
        assert len(text.encode()) < 1100
        pid = process.pid
        child = int(next(line.split()[1] for line in text.splitlines() if line.startswith("child ")))
        assert _alive(pid) and _alive(child)
    assert _wait_gone(pid)
    assert _wait_gone(child), "a process the agent started outlived the run"


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_stopped_on_ctrl_c_and_on_a_crash(agent_script: Path, error: type[BaseException]) -> None:
    with (
        pytest.raises(error),
        run_agent_process(ProcessSpec(argv=["{python}", str(agent_script), "{port}"])) as p,
    ):
        pid = p.pid
        raise error()
    assert _wait_gone(pid)


def test_an_agent_that_exits_says_what_it_printed() -> None:
    spec = ProcessSpec(argv=[sys.executable, "-c", "print('missing OPENAI_API_KEY'); raise SystemExit(3)"])
    started = time.perf_counter()
    with pytest.raises(AgentStartError) as info, run_agent_process(spec):
        pass
    assert "exited with code 3 before" in str(info.value) and "missing OPENAI_API_KEY" in str(info.value)
    assert time.perf_counter() - started < 10


def test_an_agent_that_never_answers_health_times_out(tmp_path: Path) -> None:
    spec = ProcessSpec(
        argv=[sys.executable, "-c", "import time; print('booting'); time.sleep(60)"], startup_timeout_s=0.5
    )
    expected = r"(?s)did not answer .*/health within 0.5s.*booting"
    with pytest.raises(AgentStartError, match=expected), run_agent_process(spec):
        pass


def test_a_missing_program_is_a_start_error() -> None:
    spec = ProcessSpec(argv=["no-such-agent-binary"])
    with pytest.raises(AgentStartError, match="cannot start 'no-such-agent-binary'"), run_agent_process(spec):
        pass


def test_a_sigterm_ignoring_agent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "stubborn.py"
    script.write_text(
        AGENT.replace(
            "HTTPServer((", "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\nHTTPServer(("
        )
    )
    spec = ProcessSpec(argv=[sys.executable, str(script), "{port}"], stop_timeout_s=0.5)
    with run_agent_process(spec) as process:
        pid = process.pid
    assert not _alive(pid)


# -- python: targets in a process of their own ----------------------------------------------------

PY_AGENT = '''
import json, os, urllib.request

def handle(request):
    """Looks the order up through the tools at $TRAILCHECK_TOOLS_URL, naming its conversation."""
    url = os.environ["TRAILCHECK_TOOLS_URL"] + "/orders/A1002"
    call = urllib.request.Request(url, headers={os.environ["TRAILCHECK_SESSION_HEADER"]: request.session_id})
    try:
        with urllib.request.urlopen(call, timeout=5) as answer:
            order = json.load(answer)
        return {"reply": f"Order {order['order_id']} is {order['status']}."}
    except Exception as exc:
        return {"reply": f"Sorry, the order service failed: {exc}"}

async def echo(request):
    return {"reply": request.message, "usage": {"input_tokens": 3}}
'''


@pytest.fixture
def py_agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shop_agent.py").write_text(PY_AGENT)
    monkeypatch.chdir(tmp_path)  # a module in the working folder is found without PYTHONPATH
    return tmp_path


def test_python_target_runs_in_its_own_process_behind_the_gateway_with_faults(py_agent: Path) -> None:
    case = Case(id="status", turns=["Where is A1002?"])
    faulted = case.model_copy(update={"faults": [FaultSpec(kind=FaultKind.HTTP_500, tool="lookup_order")]})

    async def replay(config: object) -> tuple[object, object]:
        adapter = build_adapter(config)  # type: ignore[arg-type]
        try:
            return await adapter.run(case, 0), await adapter.run(faulted, 0)
        finally:
            await adapter.aclose()

    with serve_in_thread(create_tools_app()) as tools:
        settings = GatewaySettings(upstream=tools, routes=REFERENCE_ROUTES)
        with resolve_agent("python:shop_agent:handle", gateway=settings, needs_gateway=True) as target:
            assert target.process is not None and target.process.pid != os.getpid()
            clean, broken = anyio.run(replay, target.config)
    calls = [s for s in clean.steps if isinstance(s, ToolCall)]  # type: ignore[attr-defined]
    assert clean.final_answer == "Order A1002 is shipped." and [c.name for c in calls] == ["lookup_order"]
    assert calls[0].observed and calls[0].args == {"order_id": "A1002"}
    failed = [s for s in broken.steps if isinstance(s, ToolCall)]  # type: ignore[attr-defined]
    assert failed[0].fault is not None and failed[0].fault.kind is FaultKind.HTTP_500
    assert "failed" in broken.final_answer  # type: ignore[attr-defined]


def test_python_target_with_another_interpreter_without_trailcheck(py_agent: Path, tmp_path: Path) -> None:
    venv = tmp_path / "other-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    agent_file = tmp_path / "agent.yaml"
    agent_file.write_text("kind: python\ntarget: shop_agent:echo\npython: other-venv/bin/python\n")
    config = load_agent_config(agent_file)
    assert config.python == str(tmp_path / "other-venv/bin/python")  # type: ignore[union-attr]

    async def one(http: object) -> object:
        adapter = build_adapter(http)  # type: ignore[arg-type]
        try:
            return await adapter.run(Case(id="echo", turns=["hello there"]), 0)
        finally:
            await adapter.aclose()

    with resolve_agent(str(agent_file)) as target:
        trajectory = anyio.run(one, target.config)
    assert trajectory.final_answer == "hello there" and trajectory.tokens.input == 3  # type: ignore[attr-defined]


def test_an_unimportable_target_is_found_before_anything_runs(py_agent: Path) -> None:
    problem = check_python_target("shop_agnet:handle", None, [])
    assert problem is not None and "No module named 'shop_agnet'" in problem
    assert "--agent-path DIR" in problem and "\n" not in problem
    assert check_python_target("shop_agent:handle", None, []) is None
    elsewhere = py_agent / "src"
    elsewhere.mkdir()
    (elsewhere / "deep_agent.py").write_text(PY_AGENT)
    assert check_python_target("deep_agent:echo", None, []) is not None
    assert check_python_target("deep_agent:echo", None, [str(elsewhere)]) is None


def test_a_target_that_fails_while_importing_says_so(py_agent: Path) -> None:
    (py_agent / "broken_agent.py").write_text("raise RuntimeError('no model configured')\n")
    with (
        pytest.raises(
            AgentStartError,
            match=r"answered: importing broken_agent:handle failed: RuntimeError: no model configured; ",
        ),
        resolve_agent("python:broken_agent:handle"),
    ):
        pass
