"""Small traces for the live sampling tests."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def trace_dict(
    i: int,
    task_type: str = "refund",
    *,
    cost: float = 0.001,
    tool_error: bool = False,
    escalated: bool = False,
    completed: bool = True,
    confidence: float | None = None,
    at: datetime | None = None,
    answer: str = "Done.",
) -> dict[str, Any]:
    """One trace in the JSONL format: a user turn, one tool call (failed or not), an answer."""
    tool: dict[str, Any] = {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"ok": True})}
    if tool_error:
        tool = {"role": "tool", "tool_call_id": "c1", "content": '{"error": "down"}', "error": "HTTP 503"}
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "issue_refund", "arguments": '{"order_id": "A1"}'},
    }
    out: dict[str, Any] = {
        "trace_id": f"t-{i:06d}",
        "task_type": task_type,
        "timestamp": (at or T0 + timedelta(seconds=i)).isoformat(),
        "cost": cost,
        "escalated": escalated,
        "completed": completed,
        "messages": [
            {"role": "user", "content": f"Refund order A{i}"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            tool,
            {"role": "assistant", "content": answer},
        ],
    }
    if confidence is not None:
        out["confidence"] = confidence
    return out


def jsonl(traces: list[dict[str, Any]]) -> str:
    """JSONL text of `traces`."""
    return "".join(json.dumps(t) + "\n" for t in traces)
