"""tau-bench conformance data (tests/conformance/tau-bench), read as trailcheck cases and trajectories.

One generic converter, the same for every record (no per-task tuning):

- the gold write actions (`info.task.actions` whose tool changes the database: book_, cancel_,
  send_, update_) become a `tool_calls` block scoped to those tools (`tools_matching`), in mode
  unordered (so each write tool's count is exact), counting only calls that succeeded, with every
  argument matched exactly and nested values matched per key / per element (extra keys inside a
  nested mapping allowed: tau-bench's tools read only the keys they know);
- `info.task.outputs` become `final_answer.contains` over any user-visible reply, compared as
  tau-bench does (lower-cased, commas removed);
- the conversation must have ended normally (`completed: true`), and tool_call_failure runs with
  the case (its argument check counts only succeeded calls too).

tau-bench's reward (tau_bench/envs/base.py, `calculate_reward`): 1 when the database after the
agent's actions equals the database after the gold actions, and every output is in one of the
agent's `respond` actions (`output.lower() in content.lower().replace(",", "")`). An episode ends
when the user says ###STOP### or the agent transfers to a human; otherwise it hit the step limit.
"""

import json
import re
from pathlib import Path
from typing import Any

from trailcheck.models import Case, EndReason, Trajectory
from trailcheck.models.openai_messages import trajectory_from_messages

DATA = Path(__file__).resolve().parent / "conformance" / "tau-bench" / "gpt-4o-airline.sample.json"
WRITES = r"^(book|cancel|send|update)_"  # the airline tools that change the database
STOP = "###STOP###"
TRANSFER = "transfer_to_human_agents"

Record = dict[str, Any]


def records() -> list[Record]:
    return json.loads(DATA.read_text())


def matcher(value: Any) -> dict[str, Any]:
    """The matcher of a gold value: per key for a mapping, per element (in order) for a list."""
    if isinstance(value, dict):
        return {"fields": {k: matcher(v) for k, v in value.items()}, "extra_keys": True}
    if isinstance(value, list):
        return {"items": [matcher(v) for v in value]}
    return {"exact": value}


def case_of(record: Record) -> Case:
    """The case one record's task stands for (the same for all trials of a task)."""
    task = record["info"]["task"]
    writes = [a for a in task["actions"] if re.search(WRITES, a["name"])]
    expectations: dict[str, Any] = {
        "count": "succeeded",
        "completed": True,
        "checks": ["tool_call_failure"],
        "tool_calls": {
            "mode": "unordered",
            "tools_matching": WRITES,
            "calls": [
                {
                    "name": a["name"],
                    "args": {k: matcher(v) for k, v in a["kwargs"].items()},
                    "extra_args": False,
                }
                for a in writes
            ],
        },
    }
    if task["outputs"]:
        expectations["final_answer"] = {
            "contains": task["outputs"],
            "in": "any_reply",
            "normalize": {"remove": ","},
        }
    return Case.model_validate(
        {"id": f"task-{record['task_id']}", "turns": [task["instruction"]], "expectations": expectations}
    )


def ending(messages: list[dict[str, Any]]) -> EndReason:
    """How a tau-bench episode ended: the user's ###STOP### or a transfer end it; else the step limit."""
    last = messages[-1]
    if last["role"] == "user" and STOP in (last.get("content") or ""):
        return EndReason.NORMAL
    calls = [c for m in messages if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    if last["role"] == "tool" and calls and calls[-1]["function"]["name"] == TRANSFER:
        return EndReason.NORMAL
    return EndReason.STEP_LIMIT


def trajectory_of(record: Record, tool_call_text_is_reply: bool = False) -> Trajectory:
    """The recorded trajectory; text on a tool-calling message is not a reply (tau-bench never shows it)."""
    trajectory = trajectory_from_messages(
        record["traj"],
        f"task-{record['task_id']}",
        record["trial"],
        strict=True,
        tool_call_text_is_reply=tool_call_text_is_reply,
    )
    return trajectory.model_copy(update={"ended": ending(record["traj"])})
