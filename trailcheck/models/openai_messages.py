"""Read a conversation in OpenAI chat-completions message format into a Trajectory.

This is the format of most recorded agent traces (tau-bench trajectories, production
logs of chat-completions agents): system/user/assistant messages, assistant
``tool_calls`` with JSON-string arguments, and ``tool`` messages carrying each call's
result, linked by ``tool_call_id``. An ``error`` key on the tool message or an error result (the
rules of trailcheck/models/tool_failure.py: ``Error...`` text, a JSON ``error`` key) marks a
failed call; an integer ``status_code`` on the tool message is the HTTP status the tool answered,
and ``latency_s`` how long the call took (the trace readers set it from tool spans).
"""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from trailcheck.models.tool_failure import error_in_result
from trailcheck.models.trajectory import AssistantMessage, Step, ToolCall, Trajectory, UserMessage

DEFAULT_ESCALATION_TOOLS = frozenset({"transfer_to_human_agents", "escalate_to_human", "create_ticket"})


_JSON_START = frozenset('{["-0123456789tfn')
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


class MessageFormatError(ValueError):
    """A message that is not in the OpenAI chat format (raised only in strict mode).

    `field` locates it (``messages[3].tool_calls[0].function.arguments``); `fix` says what to change.
    """

    def __init__(self, field: str, problem: str, fix: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem, self.fix = field, problem, fix


def _parse_json(text: Any) -> Any:
    # Only text that can start a JSON value is tried: a failed parse costs an exception.
    if not isinstance(text, str) or not text or text.lstrip()[:1] not in _JSON_START:
        return text
    try:
        return orjson.loads(text)  # 4x faster than json; live scoring parses every tool message
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)  # what orjson refuses and json reads: NaN, integers beyond 64 bits
    except json.JSONDecodeError:
        return text


_UNPARSED = object()


def _tool_error(content: Any, parsed: Any = _UNPARSED) -> str | None:
    # The rules are trailcheck/models/tool_failure.py's, the one definition of a failed call.
    if parsed is _UNPARSED:
        parsed = _parse_json(content)
    return error_in_result(content, parsed)


def _calls_of(message: Mapping[str, Any], index: int, strict: bool) -> list[dict[str, Any]]:
    calls = message.get("tool_calls") or []
    if isinstance(calls, list):
        # Lenient: a recorded trace can hold anything; calls that are not objects are skipped.
        return calls if strict else [c for c in calls if isinstance(c, dict)]
    if strict:
        raise MessageFormatError(
            f"messages[{index}].tool_calls",
            f"is a {type(calls).__name__}, not a list",
            'write tool_calls as a list: [{"id": ..., "function": {"name": ..., "arguments": "{...}"}}]',
        )
    return []


def _call_of(raw: Any, index: int, k: int, strict: bool) -> tuple[str, dict[str, Any]]:
    """The name and arguments of one tool call; in strict mode a malformed one raises."""
    where = f"messages[{index}].tool_calls[{k}]"
    function = raw.get("function") if isinstance(raw, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str) or not function["name"]:
        if strict:
            raise MessageFormatError(
                f"{where}.function.name",
                "is missing" if isinstance(raw, dict) else f"the call is a {type(raw).__name__}",
                'give each call {"function": {"name": "<tool>", "arguments": "<JSON object>"}}',
            )
        function = function if isinstance(function, dict) else {}
    raw_args = function.get("arguments") or "{}"
    args = raw_args if isinstance(raw_args, dict) else _parse_json(raw_args)
    if strict and not isinstance(args, dict):
        problem = (
            "is not valid JSON"
            if isinstance(args, str) and isinstance(raw_args, str)
            else f"is a JSON {type(args).__name__}, not an object"
        )
        raise MessageFormatError(
            f"{where}.function.arguments",
            f"{problem}: {str(raw_args)[:60]!r}",
            'arguments are a JSON object encoded as a string, e.g. "{\\"order_id\\": \\"A1\\"}"',
        )
    return str(function.get("name")), args if isinstance(args, dict) else {}


def trajectory_from_messages(
    messages: Iterable[Mapping[str, Any]],
    case_id: str,
    trial: int = 0,
    escalation_tools: frozenset[str] = DEFAULT_ESCALATION_TOOLS,
    strict: bool = False,
    tool_call_text_is_reply: bool = True,
) -> Trajectory:
    """Build a Trajectory from chat messages; unknown roles (system, developer) are not steps.

    `tool_call_text_is_reply=False` reads text on an assistant message that also calls tools as
    not shown to the user (a hidden step, `visible=False`): in tau-bench and in most chat UIs only a
    message without tool calls reaches the user, so such text is neither a reply nor the final answer.

    Every step keeps the position of the message it came from (`message_index`; a tool call also
    `result_message_index`), so a verdict can point a person at the messages involved. Lenient by
    default (a malformed call keeps what can be read); `strict` raises MessageFormatError instead,
    for input that a person should fix.
    """
    steps: list[Step] = []
    pending: dict[str, ToolCall] = {}  # open calls by their id
    # Open calls, oldest first, keyed by identity, with the id each is pending under: answering a
    # call closes it in both books in constant time.
    unanswered: dict[int, tuple[ToolCall, str]] = {}
    for index, message in enumerate(messages):
        if strict:
            _check_message(message, index)
        role = message.get("role")
        content = message.get("content")
        if role == "user" and content:
            steps.append(UserMessage(content=str(content), message_index=index))
        elif role == "assistant":
            calls = _calls_of(message, index, strict)
            if isinstance(content, str) and content and content != "None":
                visible = tool_call_text_is_reply or not calls
                steps.append(AssistantMessage(content=content, message_index=index, visible=visible))
            for k, raw in enumerate(calls):
                name, args = _call_of(raw, index, k, strict)
                call = ToolCall(name=name, args=args, message_index=index)
                steps.append(call)
                key = str(raw.get("id") if isinstance(raw, dict) else None)
                pending[key] = call
                unanswered[id(call)] = (call, key)
        elif role == "tool":
            answered = pending.get(str(message.get("tool_call_id")))
            if answered is None and unanswered:
                answered = next(iter(unanswered.values()))[0]  # an unknown id answers the oldest open call
            if answered is None:
                continue
            call = answered
            # From both books: a call answered through the fallback above is still pending under its
            # own id (found by fuzzing: a second answer crashed).
            _, key = unanswered.pop(id(call))
            if pending.get(key) is call:
                del pending[key]
            _answer(call, message, index)
    final = next((s.content for s in reversed(steps) if isinstance(s, AssistantMessage) and s.visible), None)
    escalated = any(isinstance(s, ToolCall) and s.name in escalation_tools for s in steps)
    return Trajectory(case_id=case_id, trial=trial, steps=steps, final_answer=final, escalated=escalated)


def _answer(call: ToolCall, message: Mapping[str, Any], index: int) -> None:
    """Fill `call` from the tool message that answered it."""
    content = message.get("content")
    call.result_message_index = index
    parsed = _parse_json(content)
    call.result = parsed
    explicit = message.get("error")  # a trace may record the failure beside the content
    call.error = str(explicit) if explicit else _tool_error(content, parsed)
    status = message.get("status_code")
    if isinstance(status, int) and not isinstance(status, bool):
        call.status_code = status
    latency = message.get("latency_s")
    if isinstance(latency, int | float) and not isinstance(latency, bool) and latency >= 0:
        call.latency_s = float(latency)


def _check_message(message: Any, index: int) -> None:
    if not isinstance(message, Mapping):
        raise MessageFormatError(
            f"messages[{index}]",
            f"is a {type(message).__name__}, not an object",
            'write each message as {"role": "user", "content": "..."}',
        )
    role = message.get("role")
    if role not in ROLES:
        raise MessageFormatError(
            f"messages[{index}].role",
            "is missing" if role is None else f"{role!r} is not a chat role",
            f"use one of {', '.join(sorted(ROLES))}",
        )
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        raise MessageFormatError(
            f"messages[{index}].content",
            f"is a {type(content).__name__}",
            "content is a string (or null on an assistant message that only calls tools)",
        )


def tool_message_failed(message: Mapping[str, Any]) -> bool:
    """Whether a ``tool`` message records a failed call, by the same rules as `trajectory_from_messages`.

    For code that scans many traces without building their trajectories (sampling, traffic metrics).
    """
    if message.get("role") != "tool":
        return False
    return bool(message.get("error")) or _tool_error(message.get("content")) is not None
