"""A recorded agent trace: one conversation in OpenAI chat format plus production metadata.

This is the line format of trace files (`trailcheck score TRACES.jsonl`) and of every trace
source of live sampling: one JSON object per line. The same checks score it as score a
replayed case, through `Trace.to_trajectory()`.

```json
{"trace_id": "t-1", "task_type": "refund", "timestamp": "2026-11-20T10:00:00Z",
 "cost": 0.0012, "tokens": {"input": 300, "output": 80}, "escalated": false, "completed": true,
 "messages": [
   {"role": "user", "content": "Refund order A1001"},
   {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
     "function": {"name": "issue_refund", "arguments": "{\\"order_id\\": \\"A1001\\"}"}}]},
   {"role": "tool", "tool_call_id": "c1", "content": "{\\"error\\": \\"down\\"}", "error": "HTTP 503"},
   {"role": "assistant", "content": "Your refund has been processed."}]}
```

A tool message may also carry the HTTP ``status_code`` the tool answered. A trace may carry
``expectations`` (a case's fields: goal, constraints, ...) for the checks that use them.
Steps converted from messages keep their message index, so verdicts can name the messages.
"""

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from trailcheck.models.case import Case
from trailcheck.models.expectations import Expectations
from trailcheck.models.openai_messages import trajectory_from_messages
from trailcheck.models.trajectory import TokenUsage, Trajectory


class Trace(BaseModel):
    """One recorded conversation. Unknown top-level keys are kept (`extra="allow"`) as metadata."""

    model_config = ConfigDict(extra="allow")

    messages: list[dict[str, Any]] = Field(
        min_length=1, description="OpenAI chat messages: role, content, tool_calls, tool_call_id, error."
    )
    trace_id: str | None = None
    task_type: str | None = None
    timestamp: datetime | None = None
    cost: float | None = Field(default=None, ge=0, description="USD spent on this trace.")
    tokens: TokenUsage | None = None
    escalated: bool | None = Field(default=None, description="Handed to a human; None: not recorded.")
    completed: bool | None = Field(default=None, description="The task was completed; None: not recorded.")
    confidence: float | None = Field(default=None, ge=0, le=1)
    expectations: Expectations | None = Field(
        default=None,
        description="What this conversation had to do (goal, constraints, ...), as in a case; checks use it.",
    )

    def as_case(self) -> Case | None:
        """A case carrying the trace's expectations (its user messages as turns), or None without them."""
        if self.expectations is None:
            return None
        turns = [str(m["content"]) for m in self.messages if m.get("role") == "user" and m.get("content")]
        # A trace id may hold characters a case id may not (a case id names a file line, a DB key).
        case_id = re.sub(r"[^A-Za-z0-9_.:-]", "-", self.trace_id or "trace").lstrip("_.:-") or "trace"
        return Case(
            id=case_id,
            task_type=self.task_type or "general",
            turns=turns or ["(no user message)"],
            expectations=self.expectations,
        )

    def to_trajectory(self, strict: bool = False) -> Trajectory:
        """The trace as a Trajectory (case_id is the trace id), so the replay checks can score it.

        `strict` raises `trailcheck.models.openai_messages.MessageFormatError` (with the field and the fix)
        for a message that is not in the chat format, instead of keeping what can be read.
        """
        trajectory = trajectory_from_messages(self.messages, case_id=self.trace_id or "trace", strict=strict)
        updates: dict[str, Any] = {}
        if self.cost is not None:
            updates["cost_usd"] = self.cost
        if self.tokens is not None:
            updates["tokens"] = self.tokens
        if self.escalated is not None:
            updates["escalated"] = self.escalated or trajectory.escalated
        return trajectory.model_copy(update=updates) if updates else trajectory
