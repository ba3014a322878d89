"""Small helpers over a trajectory's steps shared by the trace checks: turns, escalations, indices."""

import json
import re
from collections.abc import Sequence

from trailcheck.models import AssistantMessage, Step, ToolCall, Trajectory, UserMessage
from trailcheck.models.openai_messages import DEFAULT_ESCALATION_TOOLS

# Tool names that hand a conversation to a person, beyond the exact defaults.
_ESCALATION_NAME = re.compile(r"escalat|transfer_to_human|hand_?over|handoff|human_agent", re.IGNORECASE)


def is_escalation(call: ToolCall) -> bool:
    """Whether the call hands the conversation to a human (a ticket, a transfer)."""
    return call.name in DEFAULT_ESCALATION_TOOLS or bool(_ESCALATION_NAME.search(call.name))


def turn_end(steps: Sequence[Step], start: int) -> int:
    """The index of the first user message after `start`, or len(steps): where the agent's turn ends."""
    for j in range(start + 1, len(steps)):
        if isinstance(steps[j], UserMessage):
            return j
    return len(steps)


def escalated_after(trajectory: Trajectory, start: int) -> bool:
    """Whether the agent handed over to a human after step `start`.

    An escalation tool call that did not fail counts. A trajectory flagged as escalated without
    any escalation tool call (an agent that reports the handover itself) counts too, since the
    handover cannot be placed in time.
    """
    steps = trajectory.steps
    any_escalation_call = False
    for j, step in enumerate(steps):
        if isinstance(step, ToolCall) and is_escalation(step):
            any_escalation_call = True
            if j > start and not step.failed:
                return True
    return trajectory.escalated and not any_escalation_call


def replies_between(steps: Sequence[Step], start: int, end: int) -> list[AssistantMessage]:
    """The agent's messages to the user in steps (start, end)."""
    return [s for s in steps[start + 1 : end] if isinstance(s, AssistantMessage)]


def indices(*steps: Step | None) -> list[int]:
    """The source message indices of `steps` (a tool call gives its call and its result), sorted, unique."""
    out: set[int] = set()
    for step in steps:
        if step is None:
            continue
        if step.message_index is not None:
            out.add(step.message_index)
        if isinstance(step, ToolCall) and step.result_message_index is not None:
            out.add(step.result_message_index)
    return sorted(out)


def where(step: Step, step_index: int) -> str:
    """'message 4' when the step came from a chat message, else 'step 2'."""
    if isinstance(step, ToolCall) and step.result_message_index is not None:
        return f"messages {step.message_index}-{step.result_message_index}"
    if step.message_index is not None:
        return f"message {step.message_index}"
    return f"step {step_index}"


def strings_in(value: object) -> list[str]:
    """Every string and number inside a JSON value (keys included), depth first."""
    out: list[str] = []
    _collect(value, out)
    return out


def _collect(value: object, out: list[str]) -> None:
    # A list builder, not a recursive generator: `yield from` costs a frame per level and per item,
    # and this runs over every tool result of every trace scored.
    # Exact-type tests instead of isinstance (faster on this hot path) do not narrow for mypy, hence
    # the ignores below.
    kind = type(value)
    if kind is str:
        out.append(value)  # type: ignore[arg-type]  # a str, tested above
    elif kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]  # a dict, tested above
            out.append(str(key))
            if type(item) is str:
                out.append(item)
            else:
                _collect(item, out)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]  # a list, tested above
            if type(item) is str:
                out.append(item)
            else:
                _collect(item, out)
    elif value is not None and kind is not bool:
        out.append(str(value))


def output_text(call: ToolCall) -> str:
    """A tool output as searchable text: a str result as is, JSON as its wordy strings, one a line."""
    result = call.result
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    # One line per distinct JSON string (keys included) that could hold words or markup: ids,
    # numbers, dates and single words cannot instruct anyone, and skipping them keeps scoring fast.
    out: list[str] = []
    _wordy(result, out)
    return "\n".join(dict.fromkeys(out))


def _wordy(value: object, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        if " " in value or "<" in value:  # type: ignore[operator]
            out.append(value)  # type: ignore[arg-type]
    elif kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if " " in key or "<" in key:
                out.append(key)
            if type(item) is str:
                if " " in item or "<" in item:
                    out.append(item)
            elif type(item) is dict or type(item) is list:
                _wordy(item, out)
    elif kind is list:
        for item in value:  # type: ignore[attr-defined]
            _wordy(item, out)


def output_texts(trajectory: Trajectory) -> list[str]:
    """`output_text` of every step ("" for steps that are not tool calls), computed once per trajectory.

    The security and injection checks both read every output; the last trajectory's texts are
    kept (with the trajectory, so its id cannot be reused meanwhile) for the next check to reuse.
    """
    last = _last_texts[0]
    if last is not None and last[0] is trajectory and len(last[1]) == len(trajectory.steps):
        return last[1]
    texts = [output_text(s) if type(s) is ToolCall else "" for s in trajectory.steps]
    _last_texts[0] = (trajectory, texts)
    return texts


_last_texts: list[tuple[Trajectory, list[str]] | None] = [None]


def args_text(call: ToolCall) -> str:
    """A call's arguments as one searchable string."""
    if not call.args:
        return ""
    return " ".join(strings_in(call.args))


def excerpt(text: str, limit: int = 100) -> str:
    """`text` on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short_call(call: ToolCall, limit: int = 80) -> str:
    """``name(k='v', ...)`` cut to `limit` characters."""
    args = ", ".join(f"{k}={v!r}" for k, v in call.args.items())
    args = args if len(args) <= limit else args[: limit - 1] + "…"
    return f"{call.name}({args})"


def canonical_args(call: ToolCall) -> str:
    """The arguments as canonical JSON, to tell an identical retry from a corrected one."""
    return json.dumps(call.args, sort_keys=True, default=str)
