"""Block Kit building blocks and the escaping of untrusted text (agent answers, reasons).

Slack's mrkdwn turns `<!channel>`, `<@U123>` and `<http://x|label>` into pings and hidden
links, and `&`, `<`, `>` are its control characters. Text that comes from an agent or a tool
is escaped so it shows literally: `&<>` become entities (so no `<...>` construct survives), and
`@channel`, `@here` and `@everyone` get a zero-width space so they never notify anyone.
Slack's size limits are enforced here too, so a long reason cannot make a message invalid.
"""

import re
from typing import Any
from urllib.parse import urlsplit

from trailcheck.models import Block

MAX_BLOCKS = 50
MAX_TEXT = 3000  # section text
MAX_FIELD = 2000  # one section field
MAX_HEADER = 150
MAX_FIELDS = 10

_MENTION = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"


def truncate(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_slack(text: str, limit: int = 500) -> str:
    """Untrusted text as one line of inert mrkdwn: no mentions, no links, no broken entities."""
    flat = truncate(" ".join(text.split()), limit)
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MENTION.sub(lambda m: "@" + _ZERO_WIDTH_SPACE + m.group(1), flat)


def link(url: str, label: str) -> str:
    """A mrkdwn link to a URL trailcheck made (a Prefect UI page); the label is escaped."""
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe_url}|{escape_slack(label, 100)}>"


def header(text: str) -> Block:
    """A header block (plain text: nothing in it is parsed)."""
    plain = {"type": "plain_text", "text": truncate(text, MAX_HEADER), "emoji": True}
    return {"type": "header", "text": plain}


def section(text: str) -> Block:
    """A mrkdwn section; `text` must already be escaped where it holds untrusted parts."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, MAX_TEXT)}}


def fields(*items: str) -> Block:
    """A section of up to ten short mrkdwn fields, shown in two columns."""
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": truncate(t, MAX_FIELD)} for t in items[:MAX_FIELDS]],
    }


def context(*items: str) -> Block:
    """Small grey mrkdwn text under a message."""
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(t, MAX_TEXT)} for t in items]}


def divider() -> Block:
    return {"type": "divider"}


def web_url(url: str | None) -> str | None:
    """`url` if a browser can open it (http or https with a host), else None.

    Prefect builds a flow run's UI link from its UI setting even when none is known, giving
    "None/flow-runs/..."; a button to that is broken, so there is no button.
    """
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def link_button(text: str, url: str, action_id: str) -> Block:
    """An actions block with one button that opens `url`."""
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": truncate(text, 75)},
        "url": url,
        "action_id": action_id,
    }
    return {"type": "actions", "elements": [button]}


def within_limit(blocks: list[Block], note: str) -> list[Block]:
    """At most MAX_BLOCKS blocks; when cut, the last one says what was left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    return [*blocks[: MAX_BLOCKS - 1], context(note)]
