"""Test equipment: a support agent that remembers only the last W user turns of a session.

It speaks trailcheck's agent protocol (agents/protocol.py), over real HTTP (`create_window_agent`)
or as a Python callable (`four_turn_memory`). Like a model with a small context window, it
answers each turn from the last `window` user messages (the current one included): "refund it"
refunds the most recent order in that window, and asks which order when none is left. A session
of more than `window` turns has lost its first turn.
"""

import re
import threading
from collections import deque

from fastapi import FastAPI

from trailcheck.agents.protocol import AgentReply, AgentRequest, ReportedToolCall

ORDER_ID = re.compile(r"\b[A-Z]\d{4}\b")


class WindowMemory:
    """The agent: one window of user turns per session id (thread-safe: trials run in parallel)."""

    def __init__(self, window: int) -> None:
        self.window = window
        self._sessions: dict[str, deque[str]] = {}
        self._lock = threading.Lock()

    def __call__(self, request: AgentRequest) -> AgentReply:
        with self._lock:
            turns = self._sessions.setdefault(request.session_id, deque(maxlen=self.window))
            turns.append(request.message)
            remembered = [m.group() for text in turns for m in ORDER_ID.finditer(text)]
        if "refund" not in request.message.lower():
            return AgentReply(reply="Happy to help with that.")
        if not remembered:
            return AgentReply(reply="Which order would you like refunded? Please give me the order number.")
        order_id = remembered[-1]
        result = {"refund_id": "R-1", "status": "approved"}
        call = ReportedToolCall(name="issue_refund", args={"order_id": order_id}, result=result)
        return AgentReply(reply=f"I have issued a refund for order {order_id}.", tool_calls=[call])


def create_window_agent(window: int) -> FastAPI:
    """The agent as an HTTP service on ``POST /chat``."""
    app = FastAPI(title=f"window agent (last {window} turns)")
    agent = WindowMemory(window)

    @app.post("/chat")
    def chat(request: AgentRequest) -> AgentReply:
        return agent(request)

    return app


four_turn_memory = WindowMemory(4)  # for `--agent python:tests.window_agent:four_turn_memory`
