"""The Python-callable adapter: async and sync callables, dict replies, crashes and bad targets.

The agents under test are defined here; configs name them as ``tests.test_adapters_python:<name>``.
"""

import asyncio
import threading
import time
from collections.abc import Coroutine
from pathlib import Path

import pytest
from pydantic import ValidationError

from trailcheck.agents.config import AgentConfigError, PythonAgentConfig
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.protocol import AgentReply, AgentRequest
from trailcheck.agents.python_agent import PythonAgent
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, TrajectoryStatus, UserMessage

pytestmark = pytest.mark.anyio
HERE = "tests.test_adapters_python"
TWO_TURNS = Case(id="py", turns=["Where is A1001?", "Refund it"], context={"customer_id": "C7"})
requests: list[AgentRequest] = []
threads: list[str] = []
NOT_CALLABLE = 42


async def echo_agent(request: AgentRequest) -> AgentReply:
    requests.append(request)
    return AgentReply(
        reply=f"echo: {request.message}",
        tool_calls=[{"name": "lookup_order", "args": {"order_id": "A1001"}, "result": "ok"}],
        usage={"input_tokens": 5, "output_tokens": 2},
        cost_usd=0.01,
    )


def sync_dict_agent(request: AgentRequest) -> dict[str, object]:
    threads.append(threading.current_thread().name)
    return {"reply": "ok", "escalated": "human" in request.message, "usage": {"input_tokens": 3}}


class _Desk:
    async def __call__(self, request: AgentRequest) -> dict[str, str]:
        return {"reply": f"desk: {request.context['customer_id']}"}


desk_agent = _Desk()


async def _prefixed(request: AgentRequest, prefix: str) -> dict[str, str]:
    return {"reply": f"{prefix}{request.message}"}


def wrapped_agent(request: AgentRequest) -> Coroutine[None, None, dict[str, str]]:
    """A plain function that returns a coroutine (what decorators and wrappers often produce)."""
    return _prefixed(request, prefix="p:")


def crashing_agent(request: AgentRequest) -> dict[str, str]:
    if request.message == "Refund it":
        raise KeyError("customer_id")
    return {"reply": "first is fine"}


def garbage_agent(request: AgentRequest) -> object:
    return 42


async def hanging_agent(request: AgentRequest) -> AgentReply:
    await asyncio.sleep(5)
    raise AssertionError("never reached")


def blocking_agent(request: AgentRequest) -> dict[str, str]:
    time.sleep(0.25)
    return {"reply": "blocked a thread, not the loop"}


async def run(name: str, case: Case = TWO_TURNS, trial: int = 0) -> Trajectory:
    adapter = build_adapter(PythonAgentConfig(target=f"{HERE}:{name}"))
    assert isinstance(adapter, PythonAgent)
    try:
        return await adapter.run(case, trial)
    finally:
        await adapter.aclose()


async def test_async_callable_multi_turn() -> None:
    t = await run("echo_agent", trial=2)
    assert t.status is TrajectoryStatus.OK and t.final_answer == "echo: Refund it"
    assert [type(s) for s in t.steps] == [UserMessage, ToolCall, AssistantMessage] * 2
    assert all(not c.observed and c.args == {"order_id": "A1001"} for c in t.tool_calls)
    assert (t.tokens.input, t.tokens.output) == (10, 4) and t.cost_usd == pytest.approx(0.02)
    first, second = requests[-2:]
    assert first.session_id == second.session_id and first.session_id.startswith("py#2-")
    assert second.context == {"customer_id": "C7"} and second.message == "Refund it"


async def test_sync_callable_returning_a_dict_runs_in_a_thread() -> None:
    t = await run("sync_dict_agent", Case(id="h", turns=["a human please"]))
    assert t.status is TrajectoryStatus.OK and t.final_answer == "ok"
    assert t.escalated and t.tokens.input == 3 and t.cost_usd is None
    assert threads[-1] != threading.main_thread().name


async def test_sync_callables_do_not_block_each_other() -> None:
    started = time.perf_counter()
    adapter = build_adapter(PythonAgentConfig(target=f"{HERE}:blocking_agent"))
    case = Case(id="b", turns=["hi"])
    trials = await asyncio.gather(*(adapter.run(case, i) for i in range(4)))
    await adapter.aclose()
    assert all(t.status is TrajectoryStatus.OK for t in trials)
    assert time.perf_counter() - started < 0.9  # four 0.25 s calls overlapped


@pytest.mark.parametrize(("name", "answer"), [("desk_agent", "desk: C7"), ("wrapped_agent", "p:Refund it")])
async def test_other_async_callables(name: str, answer: str) -> None:
    t = await run(name)
    assert t.status is TrajectoryStatus.OK and t.final_answer == answer


async def test_an_exception_errors_the_trial_and_keeps_earlier_steps() -> None:
    t = await run("crashing_agent")
    assert t.status is TrajectoryStatus.ERRORED
    assert t.error == f"python agent {HERE}:crashing_agent raised KeyError: 'customer_id'"
    assert [s.type for s in t.steps] == ["user", "assistant", "user"]
    assert t.final_answer == "first is fine"


async def test_an_unusable_return_value_errors_the_trial() -> None:
    t = await run("garbage_agent")
    assert t.status is TrajectoryStatus.ERRORED
    assert "returned an unusable reply (int)" in (t.error or "")


@pytest.mark.parametrize("name", ["hanging_agent", "blocking_agent"])
async def test_a_slow_agent_times_out(name: str) -> None:
    t = await run(name, Case(id="slow", turns=["hi"], timeout_s=0.1))
    assert t.status is TrajectoryStatus.TIMEOUT and t.latency_s < 0.2


def test_bad_targets_are_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "explodes_on_import.py").write_text("raise RuntimeError('no database configured')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cases = {
        "tests.no_such_module:agent": "cannot import 'tests.no_such_module': ModuleNotFoundError",
        f"{HERE}:missing": f"module '{HERE}' has no callable 'missing'",
        f"{HERE}:NOT_CALLABLE": "'NOT_CALLABLE' is not callable (type int)",
        "explodes_on_import:agent": "RuntimeError: no database configured",
    }
    for target, fragment in cases.items():
        with pytest.raises(AgentConfigError) as info:
            PythonAgent(PythonAgentConfig(target=target))
        assert fragment in str(info.value) and target in str(info.value)
    with pytest.raises(ValidationError, match="target"):
        PythonAgentConfig(target="no_colon_here")
