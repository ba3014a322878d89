"""Request templates of HTTP agents: JSON, URL and headers with ``{{placeholders}}`` filled every turn.

A placeholder is a dotted path into the turn's values (``{{context.customer_id}}``, ``{{case.id}}``,
``{{session_id}}``), optionally typed (``{{context.limit:int}}``). Unknown placeholders are refused
when an agent file is loaded (`check_placeholders`); a case lacking a value errors that case.
"""

import json
import re
from collections.abc import Callable
from typing import Any

from pydantic import JsonValue

from trailcheck.agents.errors import AgentError
from trailcheck.models import Case

# Placeholder roots: the first part of ``{{context.customer_id}}``. Those in LEAVES take no dotted tail.
LEAVES = frozenset({"message", "session_id", "history", "case_id", "turn", "trial"})
CASE_FIELDS = frozenset({"id", "task_type", "description", "tags", "context"})
PLACEHOLDERS = LEAVES | {"context", "case"}
TYPES = ("int", "float", "str", "bool", "json")
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_FORM = re.compile(r"^(?P<path>[A-Za-z_]\w*(?:\.[^.\s:]+)*)(?::(?P<type>\w+))?$")


class TemplateError(AgentError):
    """A template cannot be filled for this case (a missing context key, a value of the wrong type)."""


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
