"""Test equipment: a support agent that remembers only the last W user turns of a session.

It speaks trailcheck's agent protocol (agents/protocol.py) over real HTTP. Like a model with a
small context window, it answers each turn from the last `window` user messages (the current
one included): "refund it" refunds the most recent order in that window, and asks which order
when none is left. A session of more than `window` turns has lost its first turn.
"""

import re
from collections import deque

from fastapi import FastAPI

from agents.protocol import AgentReply, AgentRequest, ReportedToolCall

ORDER_ID = re.compile(r"\b[A-Z]\d{4}\b")


def create_window_agent(window: int) -> FastAPI:
    """The agent's app; each session id keeps its own window of user turns."""
    app = FastAPI(title=f"window agent (last {window} turns)")
    memory: dict[str, deque[str]] = {}

    @app.post("/chat")
    def chat(request: AgentRequest) -> AgentReply:
        turns = memory.setdefault(request.session_id, deque(maxlen=window))
        turns.append(request.message)
        if "refund" not in request.message.lower():
            return AgentReply(reply="Happy to help with that.")
        remembered = [m.group() for text in turns for m in ORDER_ID.finditer(text)]
        if not remembered:
            return AgentReply(reply="Which order would you like refunded? Please give me the order number.")
        order_id = remembered[-1]
        call = ReportedToolCall(
            name="issue_refund",
            args={"order_id": order_id},
            result={"refund_id": "R-1", "status": "approved"},
        )
        return AgentReply(reply=f"I have issued a refund for order {order_id}.", tool_calls=[call])

    return app
