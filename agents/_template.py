"""Request templates of HTTP agents: JSON with ``{{placeholders}}`` filled for every turn."""

import json
import re

from pydantic import JsonValue

PLACEHOLDERS = frozenset({"message", "session_id", "context", "history", "case_id"})
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


def template_placeholders(template: JsonValue) -> set[str]:
    """Every placeholder name used anywhere in `template` (to reject typos when a config is loaded)."""
    if isinstance(template, dict):
        return set().union(*(template_placeholders(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(template_placeholders(v) for v in template))
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    return set()


def render_template(template: JsonValue, values: dict[str, JsonValue]) -> JsonValue:
    """Fill the placeholders of `template`.

    A string that is exactly one placeholder takes the value with its type (a list stays a
    list); inside a longer string the value is substituted as text (JSON for non-strings).
    """
    if isinstance(template, dict):
        return {k: render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    if not isinstance(template, str):
        return template
    whole = _PLACEHOLDER.fullmatch(template.strip())
    if whole and whole.group(1) in values:
        return values[whole.group(1)]
    return _PLACEHOLDER.sub(lambda m: _as_text(values.get(m.group(1), m.group(0))), template)


def _as_text(value: JsonValue) -> str:
    return value if isinstance(value, str) else json.dumps(value)
