"""Python-callable agents for fault tests: they answer like a good agent and run a hook at a chosen call.

A test sets `HOOKS[n] = callable` to act (cut a relay, restore it) when the n-th request arrives
(0-based, counted across the process), so a fault lands at a known point in the middle of a run.
"""

import threading
from collections.abc import Callable

from trailcheck.agents.protocol import AgentReply, AgentRequest

HOOKS: dict[int, Callable[[], None]] = {}
SEEN: list[str] = []
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        HOOKS.clear()
        SEEN.clear()


def steady(request: AgentRequest) -> AgentReply:
    """Answers every message with 'done: <message>', running the hook registered for this call."""
    with _lock:
        n = len(SEEN)
        SEEN.append(request.message)
        hook = HOOKS.pop(n, None)
    if hook is not None:
        hook()
    return AgentReply(reply=f"done: {request.message}")


def nul(request: AgentRequest) -> AgentReply:
    """Answers with NUL bytes (and a lone surrogate) in the reply, a tool's arguments, result and error."""
    from trailcheck.agents.protocol import ReportedToolCall

    steady(request)
    return AgentReply(
        reply=f"done\x00: {request.message}\x00 \ud800",
        tool_calls=[
            ReportedToolCall(
                name="lookup\x00", args={"q\x00": "a\x00b"}, result={"v": "\x00"}, error="HTTP 500\x00 boom"
            )
        ],
    )


def slow(request: AgentRequest) -> AgentReply:
    """`steady`, a tenth of a second late: a run long enough to be interrupted."""
    import time

    time.sleep(0.1)
    return steady(request)
