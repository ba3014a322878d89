"""Build OpenAI-format chat messages for trace-check tests, readably."""

import json
from typing import Any

from trailcheck.models import Case, Trace, Trajectory


class Chat:
    """A conversation under construction: user turns, tool calls with their results, replies."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a support agent."}]
        self._ids = 0

    def user(self, text: str) -> "Chat":
        self.messages.append({"role": "user", "content": text})
        return self

    def say(self, text: str) -> "Chat":
        self.messages.append({"role": "assistant", "content": text})
        return self

    def call(
        self, name: str, result: Any, error: str | None = None, status: int | None = None, **args: Any
    ) -> "Chat":
        self._ids += 1
        call_id = f"c{self._ids}"
        function = {"name": name, "arguments": json.dumps(args)}
        self.messages.append(
            {"role": "assistant", "content": None, "tool_calls": [{"id": call_id, "function": function}]}
        )
        tool: dict[str, Any] = {
            "role": "tool",
            "tool_call_id": call_id,
            "content": result if isinstance(result, str) else json.dumps(result),
        }
        if error is not None:
            tool["error"] = error
        if status is not None:
            tool["status_code"] = status
        self.messages.append(tool)
        return self

    def trace(self, **metadata: Any) -> Trace:
        return Trace.model_validate({"trace_id": "t", "messages": self.messages, **metadata})

    def trajectory(self) -> Trajectory:
        return self.trace().to_trajectory(strict=True)


def case_with(**expectations: Any) -> Case:
    """A one-turn case carrying these expectations."""
    return Case.model_validate({"id": "c", "turns": ["hi"], "expectations": expectations})
