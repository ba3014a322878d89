"""Helpers the history readers share: JSON text of arguments, located bad records, timestamps."""

import json
from datetime import datetime
from typing import Any


def as_json_text(value: Any) -> str:
    """Tool arguments as the JSON text chat messages carry."""
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def as_content(value: Any) -> str | None:
    """A tool result or message content as text (JSON for structured values)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def seconds_between(start: Any, end: Any) -> float | None:
    """Seconds from one ISO timestamp to another, or None when either is missing."""
    a, b = parse_time(start), parse_time(end)
    return max((b - a).total_seconds(), 0.0) if a and b else None
