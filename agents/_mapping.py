"""From what an agent says to trailcheck's models: request templates, reply paths, reply -> trajectory.

HTTP agents that do not speak trailcheck's protocol are described by a request template (JSON
with ``{{placeholders}}``, also in the URL and headers) and a response mapping (dotted paths into
the reply). A placeholder is a dotted path into the turn's values (``{{context.customer_id}}``,
``{{case.id}}``, ``{{session_id}}``), optionally typed (``{{context.limit:int}}``). Every reply,
mapped or native, becomes an `AgentReply` first, so one function records replies on a trial.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue, ValidationError

from trailcheck.agents._trial import TrialState
from trailcheck.agents.errors import AgentError, AgentReplyError
from trailcheck.agents.protocol import AgentReply
from trailcheck.models import AssistantMessage, Case, ToolCall

if TYPE_CHECKING:
    from trailcheck.agents.config import ResponseMapping

# Placeholder roots: the first part of ``{{context.customer_id}}``. Those in LEAVES take no dotted tail.
LEAVES = frozenset({"message", "session_id", "history", "case_id", "turn", "trial"})
CASE_FIELDS = frozenset({"id", "task_type", "description", "tags", "context"})
PLACEHOLDERS = LEAVES | {"context", "case"}
TYPES = ("int", "float", "str", "bool", "json")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_FORM = re.compile(r"^(?P<path>[A-Za-z_]\w*(?:\.[^.\s:]+)*)(?::(?P<type>\w+))?$")
_MISSING = object()


class TemplateError(AgentError):
    """A template cannot be filled for this case (a missing context key, a value of the wrong type)."""


def new_session_id(case_id: str, trial: int) -> str:
    """A session id unique to one trial (``case#trial-hex``), so trials never share server-side state."""
    return f"{case_id}#{trial}-{uuid.uuid4().hex[:8]}"


def placeholder_problem(expression: str) -> str | None:
    """Why ``{{expression}}`` is not a placeholder trailcheck can fill, or None when it is."""
    form = _FORM.fullmatch(expression)
    if form is None:
        return (
            f"{{{{{expression}}}}} is not a placeholder (e.g. {{{{context.customer_id}}}}, {{{{message}}}})"
        )
    root, _, rest = form["path"].partition(".")
    if root not in PLACEHOLDERS:
        return f"unknown placeholder {{{{{expression}}}}}; known: {', '.join(sorted(PLACEHOLDERS))}"
    if root in LEAVES and rest:
        return f"{{{{{expression}}}}}: {root} has no fields"
    if root == "case" and rest.split(".")[0] not in CASE_FIELDS:
        return f"{{{{{expression}}}}}: a case has {', '.join(sorted(CASE_FIELDS))}"
    if form["type"] and form["type"] not in TYPES:
        return f"{{{{{expression}}}}}: unknown type {form['type']!r}; known: {', '.join(TYPES)}"
    return None


def template_placeholders(template: JsonValue) -> set[str]:
    """Every placeholder expression used anywhere in `template` (keys and values)."""
    if isinstance(template, dict):
        return set().union(*(template_placeholders(v) for v in [*template.keys(), *template.values()]))
    if isinstance(template, list):
        return set().union(*(template_placeholders(v) for v in template))
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    return set()


def check_placeholders(template: JsonValue) -> None:
    """ValueError naming the first placeholder that cannot be filled (so a typo fails at load time)."""
    for expression in sorted(template_placeholders(template)):
        problem = placeholder_problem(expression)
        if problem:
            raise ValueError(problem)


def template_values(
    case: Case, session_id: str, message: str, history: list[JsonValue], turn: int, trial: int
) -> dict[str, JsonValue]:
    """What the placeholders of one turn's request are filled from."""
    return {
        "message": message,
        "session_id": session_id,
        "context": case.context,
        "history": list(history),
        "case_id": case.id,
        "turn": turn,
        "trial": trial,
        "case": case.model_dump(mode="json", include=set(CASE_FIELDS)),
    }


def render_template(template: JsonValue, values: dict[str, JsonValue]) -> JsonValue:
    """Fill the placeholders of `template`.

    A string that is exactly one placeholder takes the value with its type (a list stays a
    list, ``{{context.limit:int}}`` becomes a number); inside a longer string the value is
    substituted as text (JSON for non-strings). TemplateError when the case lacks a value.
    """
    if isinstance(template, dict):
        return {render_text(k, values): render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template.strip())
    if whole:
        return _value_of(whole.group(1), values)
    return render_text(template, values)


def render_text(
    template: str, values: dict[str, JsonValue], escape: Callable[[str], str] | None = None
) -> str:
    """`template` with every placeholder replaced by its value as text (`escape`d, e.g. for a URL path)."""

    def text(match: re.Match[str]) -> str:
        value = _as_text(_value_of(match.group(1), values))
        return escape(value) if escape else value

    return _PLACEHOLDER.sub(text, template)


def _value_of(expression: str, values: dict[str, JsonValue]) -> JsonValue:
    form = _FORM.fullmatch(expression)
    if form is None:
        raise TemplateError(f"request template: {{{{{expression}}}}} is not a placeholder")
    parts = form["path"].split(".")
    value: Any = values
    for i, part in enumerate(parts):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            where = ".".join(parts[:i]) or "the request"
            raise TemplateError(f"request template: {{{{{expression}}}}}: {where} has no {part!r}")
    return _typed(value, form["type"], expression) if form["type"] else value


def _typed(value: Any, kind: str, expression: str) -> JsonValue:
    try:
        if kind == "int":
            number = (
                float(value) if isinstance(value, str) and not value.strip().lstrip("-").isdigit() else value
            )
            if isinstance(number, float) and not number.is_integer():
                raise ValueError("not a whole number")
            return int(number)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, str):
                if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError("not true/false")
                return value.strip().lower() in ("true", "1", "yes")
            return bool(value)
        if kind == "json":
            return json.loads(value) if isinstance(value, str) else value
        return _as_text(value)
    except (TypeError, ValueError) as exc:
        raise TemplateError(
            f"request template: {{{{{expression}}}}}: {value!r} is not {kind}: {exc}"
        ) from None


def _as_text(value: JsonValue) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def get_path(document: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path (``choices.0.message.content``); `default`, or AgentReplyError if absent."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif default is not _MISSING:
            return default
        else:
            keys = sorted(document)[:10] if isinstance(document, dict) else type(document).__name__
            raise AgentReplyError(f"reply has no {path!r} (top-level keys: {keys})")
    return current


def map_reply(document: Any, mapping: ResponseMapping) -> AgentReply:
    """Read an agent's JSON reply through `mapping`; AgentReplyError names the path that does not fit.

    The reply path is required; the others are read when present. Values are validated as
    trailcheck's protocol validates them (tokens are counts >= 0, tool calls have a name, ...).
    """
    sources: dict[tuple[str, ...], str | None] = {
        ("reply",): mapping.reply,
        ("tool_calls",): mapping.tool_calls,
        ("escalated",): mapping.escalated,
        ("usage", "input_tokens"): mapping.input_tokens,
        ("usage", "output_tokens"): mapping.output_tokens,
        ("cost_usd",): mapping.cost_usd,
    }
    data: dict[str, Any] = {"reply": get_path(document, mapping.reply), "usage": {}}
    for (*parents, key), path in sources.items():
        if key == "reply" or path is None:
            continue
        value = get_path(document, path, None)
        if value is not None:
            (data["usage"] if parents else data)[key] = value
    try:
        return AgentReply.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(str(p) for p in error["loc"])
        head = 2 if loc[0] == "usage" else 1
        path = ".".join([str(sources.get(loc[:head]) or ".".join(loc[:head])), *loc[head:]])
        received = repr(error.get("input"))[:80]
        raise AgentReplyError(
            f"unreadable reply: field {path!r} does not fit: {error['msg']} (got {received})"
        ) from None


def record_reply(state: TrialState, reply: AgentReply, observed: list[ToolCall] | None = None) -> None:
    """Add one turn's reply to the trial: its tool calls, the answer, usage and cost.

    `observed` are the turn's calls as a gateway saw them; when given they replace the calls the
    agent reports (observed beats self-reported).
    """
    if observed is not None:
        state.steps.extend(observed)
    else:
        state.steps.extend(ToolCall(**call.model_dump(), observed=False) for call in reply.tool_calls)
    state.steps.append(AssistantMessage(content=reply.reply))
    state.final_answer = reply.reply
    state.escalated = state.escalated or reply.escalated
    state.input_tokens += reply.usage.input_tokens
    state.output_tokens += reply.usage.output_tokens
    state.add_cost(reply.cost_usd)
