"""A detector of instruction-like text where only data belongs (tool outputs).

Tool outputs are data: an order, a flight list, a web page. Text in them that addresses the
model, tries to override its instructions, fakes a chat role, orders a tool call or hides
itself from the reader is a prompt injection. Each pattern below is one such move; they are
compiled once into a single regular expression whose named group says which move matched.

Precision matters as much as recall: on the 543 real tool outputs of the tau-bench conformance
trajectories (flight searches, reservations, user profiles) the detector flags none.
"""

import re
from dataclasses import dataclass

# Written in lower case and matched against lowered text: Python's `re` runs a many-branch
# alternation about 12x slower with IGNORECASE than on text lowered once.
_PATTERNS: dict[str, str] = {
    "override": (
        r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|of\s+|these\s+|those\s+)*"
        r"(?:previous|prior|above|earlier|preceding|original|system|existing|current)\s+"
        r"(?:instructions?|prompts?|rules?|directions?|guidelines?|directives?|messages?|context|policies)"
    ),
    "new_instructions": r"\b(?:new|updated|revised|real|secret|hidden|system)\s+instructions?\s*:",
    "role_play": (
        r"\byou are now (?:a|an|the|acting|in|operating|dan|jailbroken|unrestricted|free)\b"
        r"|\bfrom now on,? (?:you|the assistant|the agent|the ai)\b"
        r"|\b(?:pretend|act) (?:to be|as|like) (?:an?|the) (?:ai|assistant|agent|system|admin\w*|developer"
        r"|unrestricted|jailbroken|different)\b"
    ),
    "fake_role": (
        r"(?:^|\n)[ \t#*]*(?:system|developer)[ \t]*:[ \t]*\S"
        r"|<\|im_(?:start|end)\|>|<\|(?:system|assistant|user|endoftext)\|>|\[/?inst\]|<</?sys>>"
        r"|</?(?:system|system_prompt|instructions?)>"
    ),
    "tool_order": (
        r"\b(?:you must|you should|you need to|you have to|you are required to|make sure to|be sure to)"
        r"(?: now| immediately| first)? (?:call|invoke|use|run|execute|trigger)\b"
        r"(?: the)? (?:tool|function)\b"
        r"|\bcall the (?:tool|function) [a-z_]\w*"
        r"|\b(?:immediately|now) (?:call|invoke|execute) (?:the )?(?:tool|function)\b"
    ),
    "addresses_model": (
        r"\b(?:note|message|instructions?|notice|attention|reminder)\s+(?:to|for)\s+(?:the\s+)?"
        r"(?:ai|assistant|agent|model|llm|chatbot|language model)\b"
        r"|\b(?:dear|hey|hello|attention)\s*,?\s+(?:ai|assistant|chatgpt|claude|gpt|llm|language model)\b"
        r"|\bif you are an? (?:ai|assistant|llm|language model)\b"
    ),
    "secrecy": (
        r"\b(?:do not|don't|never)\s+(?:tell|inform|notify|alert|warn)\s+the user\b"
        r"|\bwithout (?:telling|informing|notifying|alerting) the user\b"
    ),
    "prompt_leak": (
        r"\b(?:reveal|print|output|repeat|show|disclose|leak)\s+(?:me\s+)?(?:your|the)\s+"
        r"(?:system prompt|instructions|hidden prompt|initial prompt|prompt)\b"
    ),
    "hidden_html": (
        r"<!--(?:(?!-->)[\s\S]){0,500}?\b(?:instruction|assistant|ignore|you must|system|call)\b"
        r"|<[^>]{0,200}style\s*=\s*[\"'][^\"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0)"
        r"|\[//\]\s*:\s*#"
    ),
}
_DETECTOR = re.compile("|".join(f"(?P<{kind}>{p})" for kind, p in _PATTERNS.items()))
# Every pattern above contains one of these: substring tests (C speed) skip the regex on clean data.
_ANCHORS = (
    "ignor", "disregard", "forget", "overrid", "bypass", "instruction", "you ", "from now on", "pretend",
    "act ", "system", "developer", "<|", "inst]", "sys>>", "required to", "sure to", "call the",
    "immediately", "now ", "note", "message", "notice", "attention", "reminder", "dear", "hey", "hello",
    "the user", "prompt", "<!--", "style", "[//]",
)  # fmt: skip
_HIDDEN_CHARS = re.compile("[\u200b\u200c\u200e\u200f\u2060-\u2064\U000e0000-\U000e007f]")


@dataclass(frozen=True)
class InjectionFinding:
    """Instruction-like text found in data: which move it makes and the text that matched."""

    kind: str
    text: str
    start: int


def find_injection(text: str) -> InjectionFinding | None:
    """The first instruction-like passage in `text`, or None."""
    hidden = _HIDDEN_CHARS.search(text)
    if hidden:
        return InjectionFinding(kind="hidden_chars", text=repr(hidden.group(0)), start=hidden.start())
    lowered = text.lower()
    for anchor in _ANCHORS:  # a plain loop: a generator in any() costs more than the tests themselves
        if anchor in lowered:
            break
    else:
        return None
    match = _DETECTOR.search(lowered)
    if match is None:
        return None
    # Positions in the lowered text are those of `text` except for the rare characters whose
    # lower case is longer (e.g. "İ"); the excerpt is only for people to read.
    if len(lowered) != len(text):
        return InjectionFinding(kind=str(match.lastgroup), text=match.group(0).strip(), start=match.start())
    # The match and the rest of its line (up to 60 more characters), so a person sees what it asks.
    end = text.find("\n", match.end())
    end = min(match.end() + 60, len(text) if end < 0 else max(end, match.end()))
    return InjectionFinding(
        kind=str(match.lastgroup), text=text[match.start() : end].strip(), start=match.start()
    )


KINDS: tuple[str, ...] = (*_PATTERNS, "hidden_chars")
