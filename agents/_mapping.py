"""Request templates and response paths for HTTP agents that do not speak trailcheck's protocol."""

import re
from typing import Any

from agents.errors import AgentReplyError

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_MISSING = object()


def render_template(template: Any, values: dict[str, Any]) -> Any:
    """Replace placeholders; a string that is exactly one placeholder takes the value with its type."""
    if isinstance(template, dict):
        return {k: render_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values) for v in template]
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template.strip())
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)
    return template


def get_path(document: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at a dotted path (``choices.0.message.content``); `default` or AgentReplyError if absent."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            if default is not _MISSING:
                return default
            keys = sorted(document)[:10] if isinstance(document, dict) else type(document).__name__
            raise AgentReplyError(f"reply has no {path!r} (top-level keys: {keys})")
    return current
