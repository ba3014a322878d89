"""Text from agents and files, made safe to print on a terminal.

An agent's reply or a trace can carry control characters (ANSI escapes that move the cursor or
retitle the window) and bidirectional overrides (U+202E shows "evil.exe" as "exe.live"): printed
raw, they rewrite what the person reading the report sees. Each becomes a visible escape like
``\\u202e``; tabs and newlines stay. Then Rich markup in it is escaped, as `rich.markup.escape` does.
"""

import re

from rich.markup import escape as escape_markup

# C0 and C1 controls (not tab or newline), DEL, bidi embeddings, overrides, isolates and marks.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with control and bidi characters shown as escapes (e.g. ``\\x1b``, ``\\u202e``)."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


def escape(text: str) -> str:
    """`visible`, then Rich markup escaped: for text from outside printed through a Rich console."""
    return escape_markup(visible(text))
