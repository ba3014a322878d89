"""Reference production data: a realistic trace stream from the reference agent's versions.

The conversations are real: each is played once over HTTP against the bundled reference agent
(v1, which behaves, and v2, which refunds without checking and claims success after a failed
refund) and recorded in the trace format (OpenAI messages, the tool results and errors the
agent reported, its cost and tokens). The stream is then synthesised from them: a mix of task
types over time, cost noise, and two known incidents, so detection can be checked against
ground truth:

- a cost drift: from `cost_drift_at` every trace costs `cost_drift_factor` times more
  (a longer prompt shipped);
- a rise in silent errors: from `silent_errors_from`, a share of refunds (`silent_error_share`)
  is served by v2 against the order whose payments fail, so a failed refund is reported as done.

Deterministic by seed; written line by line, so memory stays flat whatever the size.
"""

import functools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

# (task type, user turns, context, weight within the task type)
CATALOGUE: tuple[tuple[str, tuple[str, ...], dict[str, str], float], ...] = (
    ("order_status", ("Where is my order A1001?",), {"customer_id": "C100"}, 3),
    ("order_status", ("Has order A1002 shipped yet?",), {"customer_id": "C100"}, 3),
    ("order_status", ("What is the status of A1004?",), {"customer_id": "C200"}, 2),
    ("order_status", ("Where is order A9999?",), {"customer_id": "C100"}, 1),
    ("refund", ("Please refund order A1001.",), {"customer_id": "C100"}, 3),
    ("refund", ("Where is my order A1004?", "I want a refund of $20 for it."), {"customer_id": "C200"}, 2),
    ("refund", ("Refund order A1003 please.",), {"customer_id": "C100"}, 1),
    ("refund", ("Refund order A1002, it is late.",), {"customer_id": "C100"}, 1),
    ("account", ("What email do you have on my account?",), {"customer_id": "C100"}, 2),
    ("account", ("Which email is on account C200?",), {}, 1),
    ("handover", ("I want to talk to a human.",), {"customer_id": "C200"}, 1),
)
PAYMENTS_DOWN_REFUND = ("refund", ("Refund order A1005 please.",), {"customer_id": "C200"}, 0.0)
TASK_MIX = {"order_status": 0.4, "refund": 0.3, "account": 0.2, "handover": 0.1}


class RecordedConversation(BaseModel):
    """One recorded conversation with the reference agent, in the trace format's fields."""

    task_type: str
    version: str
    context: dict[str, str]
    messages: list[dict[str, Any]]
    cost: float
    input_tokens: int
    output_tokens: int
    escalated: bool
    completed: bool
    tool_failed: bool


def _messages_of(turns: tuple[str, ...], replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are the support desk agent."}]
    for n, (turn, reply) in enumerate(zip(turns, replies, strict=True)):
        messages.append({"role": "user", "content": turn})
        for i, call in enumerate(reply["tool_calls"]):
            call_id = f"call_{n}_{i}"
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
                        }
                    ],
                }
            )
            tool: dict[str, Any] = {
                "role": "tool",
                "tool_call_id": call_id,
                "content": json.dumps(call["result"]),
            }
            if call.get("error"):
                tool["error"] = call["error"]
            if call.get("status_code") is not None:
                tool["status"] = call["status_code"]
            messages.append(tool)
        messages.append({"role": "assistant", "content": reply["reply"]})
    return messages


def _play(
    agent_url: str, version: str, entry: tuple[str, tuple[str, ...], dict[str, str], float]
) -> RecordedConversation:
    task_type, turns, context, _ = entry
    session = f"gen-{uuid.uuid4().hex[:8]}"
    replies = []
    with httpx.Client(timeout=10.0) as client:
        for turn in turns:
            response = client.post(
                agent_url, json={"session_id": session, "message": turn, "context": context}
            )
            response.raise_for_status()
            replies.append(response.json())
    calls = [c for r in replies for c in r["tool_calls"]]
    escalated = any(r["escalated"] for r in replies)
    last = replies[-1]["reply"]
    return RecordedConversation(
        task_type=task_type,
        version=version,
        context=context,
        messages=_messages_of(turns, replies),
        cost=sum(r["cost_usd"] or 0 for r in replies),
        input_tokens=sum(r["usage"]["input_tokens"] for r in replies),
        output_tokens=sum(r["usage"]["output_tokens"] for r in replies),
        escalated=escalated,
        # A handover the user asked for is the task done; any other escalation or failure is not.
        completed=(escalated and task_type == "handover")
        or (not escalated and "could not" not in last.lower()),
        tool_failed=any(c.get("error") for c in calls),
    )


@functools.cache
def recorded_conversations() -> dict[str, tuple[RecordedConversation, ...]]:
    """Every catalogue conversation played against v1, and the payments-down refund against v1 and v2.

    Keys: ``v1`` (the normal traffic), ``v1-payments-down`` and ``v2-payments-down``.
    """
    from trailcheck.agents.reference import serve_reference

    out: dict[str, tuple[RecordedConversation, ...]] = {}
    with serve_reference("v1") as v1:
        out["v1"] = tuple(_play(v1.agent_url, "v1", e) for e in CATALOGUE)
        out["v1-payments-down"] = (_play(v1.agent_url, "v1", PAYMENTS_DOWN_REFUND),)
    with serve_reference("v2") as v2:
        out["v2-payments-down"] = (_play(v2.agent_url, "v2", PAYMENTS_DOWN_REFUND),)
    return out


class StreamConfig(BaseModel):
    """The stream to write; times are UTC."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = datetime(2026, 11, 1, tzinfo=UTC)
    hours: int = Field(default=48, ge=1)
    traces_per_hour: int = Field(default=400, ge=1)
    seed: int = 7
    cost_noise: float = Field(default=0.15, ge=0, description="Sigma of the lognormal cost noise.")
    cost_drift_at: datetime | None = None
    cost_drift_factor: float = Field(default=1.35, gt=0)
    silent_errors_from: datetime | None = None
    silent_error_share: float = Field(
        default=0.25, ge=0, le=1, description="Share of refunds hit afterwards."
    )
    base_payments_down_share: float = Field(
        default=0.02, ge=0, le=1, description="Before: v1 escalates these."
    )


@dataclass(frozen=True)
class _Template:
    conversation: RecordedConversation
    messages_json: str
    weight: float


def _templates() -> tuple[dict[str, list[_Template]], _Template, _Template]:
    recorded = recorded_conversations()
    by_type: dict[str, list[_Template]] = {}
    for conversation, entry in zip(recorded["v1"], CATALOGUE, strict=True):
        by_type.setdefault(conversation.task_type, []).append(
            _Template(conversation, json.dumps(conversation.messages), entry[3])
        )
    down_v1, down_v2 = recorded["v1-payments-down"][0], recorded["v2-payments-down"][0]
    return (
        by_type,
        _Template(down_v1, json.dumps(down_v1.messages), 0),
        _Template(down_v2, json.dumps(down_v2.messages), 0),
    )


def _pick(rng: random.Random, config: StreamConfig, ts: datetime, by_type: dict[str, list[_Template]],
          down_v1: _Template, down_v2: _Template) -> _Template:  # fmt: skip
    task_type = rng.choices(list(TASK_MIX), weights=list(TASK_MIX.values()))[0]
    if task_type == "refund":
        incident = config.silent_errors_from is not None and ts >= config.silent_errors_from
        if incident and rng.random() < config.silent_error_share:
            return down_v2
        if rng.random() < config.base_payments_down_share:
            return down_v1
    options = by_type[task_type]
    return rng.choices(options, weights=[t.weight for t in options])[0]


def trace_lines(config: StreamConfig) -> Iterator[str]:
    """The stream as JSONL lines (without newlines), in time order."""
    by_type, down_v1, down_v2 = _templates()
    rng = random.Random(config.seed)
    step = timedelta(hours=1) / config.traces_per_hour
    for i in range(config.hours * config.traces_per_hour):
        ts = config.start + step * i + step * rng.random()
        template = _pick(rng, config, ts, by_type, down_v1, down_v2)
        c = template.conversation
        factor = rng.lognormvariate(0, config.cost_noise) if config.cost_noise else 1.0
        if config.cost_drift_at is not None and ts >= config.cost_drift_at:
            factor *= config.cost_drift_factor
        confidence = round(min(1.0, max(0.0, rng.gauss(0.85 if c.completed else 0.6, 0.1))), 3)
        head = {
            "trace_id": f"tr-{config.seed}-{i:08d}",
            "task_type": c.task_type,
            "timestamp": ts.isoformat().replace("+00:00", "Z"),
            "cost": round(c.cost * factor, 8),
            "tokens": {"input": round(c.input_tokens * factor), "output": c.output_tokens},
            "escalated": c.escalated,
            "completed": c.completed,
            "confidence": confidence,
            "agent_version": c.version,
            "context": c.context,
        }
        yield json.dumps(head)[:-1] + ', "messages": ' + template.messages_json + "}"


def write_stream(path: str | Path, config: StreamConfig) -> int:
    """Write the stream to `path` (JSONL); returns the number of traces."""
    n = 0
    with Path(path).open("w", encoding="utf-8") as out:
        for line in trace_lines(config):
            out.write(line)
            out.write("\n")
            n += 1
    return n
