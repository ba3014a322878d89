"""What a failed tool call was, and whether the agent's words own up to it.

Shared by the silent_error and tool_call_failure checks. The phrase lists are deliberately
plain (English support-desk language) and compiled once; they were tuned against the
tau-bench conformance trajectories (tests/conformance/tau-bench), where every failed call
is a business error ("Error: ...") that good agents explain to the user.
"""

import re

from trailcheck.models import ToolCall

_STATUS_IN_TEXT = re.compile(r"\b(?:HTTP|status(?: code)?)[ :]*([1-5]\d\d)\b", re.IGNORECASE)
_TRANSIENT_TEXT = re.compile(
    r"time[d ]?out|timeout|unavailable|temporar|too many requests|rate.?limit|connect|reset by peer"
    r"|try again|overloaded|bad gateway|service error|internal server error|\b50[0-4]\b|\b429\b",
    re.IGNORECASE,
)
# Words a reply uses when it tells the user that something did not work.
_ACKNOWLEDGES = re.compile(
    r"\b(?:errors?|issues?|problems?|unable|could ?n[o']t|can ?n[o']t|cannot|not able|was ?n[o']t able"
    r"|were ?n[o']t able|fail(?:ed|s|ing|ure)?|unavailable|not available|no longer available|unfortunately"
    r"|sorry|apolog\w*|went wrong|try again|did ?n[o']t go through|not possible|is ?n[o']t possible"
    r"|impossible|not enough|insufficient|denied|rejected|declined|not found|timed out|time ?out"
    r"|not working|unsuccessful|discrepancy|mismatch|invalid|incorrect|technical|glitch|outage|oversight"
    r"|not sufficient|not eligible|ineligible|not allowed|not permitted)\b",
    re.IGNORECASE,
)
# Words that say the system failed (not that the answer is empty): what a 5xx or timeout calls for.
_ACKNOWLEDGES_OUTAGE = re.compile(
    r"\b(?:errors?|issues?|problems?|fail(?:ed|s|ing|ure)?|unavailable|not available|went wrong"
    r"|try again|technical|glitch|outage|timed out|time ?out|not working|unable to (?:reach|connect|access)"
    r"|right now|at the moment|temporar\w*|down)\b",
    re.IGNORECASE,
)
_CLAIMS_SUCCESS = re.compile(
    r"\b(?:has|have|was|were|is|are)(?: now)?(?: been)?(?: successfully)? "
    r"(?:processed|completed|issued|refunded|booked|confirmed|updated|cancell?ed|changed|modified|sent"
    r"|submitted|approved|created|applied|resolved|scheduled|done)\b"
    r"|\bsuccessful(?:ly)?\b|\ball set\b|\bi(?: have|'ve) (?:processed|completed|issued|refunded|booked"
    r"|confirmed|updated|cancell?ed|changed|modified|sent|submitted|created|applied)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{4,}")
# A value worth tracing: an identifier or a number of at least 3 characters holding a digit.
VALUE = re.compile(r"(?<![\w.-])(?=[\w.-]*\d)[A-Za-z0-9][\w.-]{2,}(?<![.-])")
_STOP = frozenset({"that", "this", "with", "from", "have", "been", "were", "does", "your", "error", "http"})


def status_of(call: ToolCall) -> int | None:
    """The HTTP status of a failed call: recorded, or named in its error text ("HTTP 404")."""
    if call.status_code is not None:
        return call.status_code
    match = _STATUS_IN_TEXT.search(call.error or "")
    return int(match.group(1)) if match else None


def is_transient(call: ToolCall) -> bool:
    """A failure that may pass on its own: 408, 429, 5xx, timeouts and connection errors."""
    status = status_of(call)
    if status is not None and status >= 400:
        return status in (408, 429) or status >= 500
    return bool(_TRANSIENT_TEXT.search(call.error or ""))


def is_non_retryable(call: ToolCall) -> bool:
    """A failure that the same request will meet again: a 4xx other than 408/429, or a business error."""
    return call.failed and not is_transient(call)


def acknowledges(reply: str, call: ToolCall) -> bool:
    """Whether `reply` tells the user that `call` failed.

    A server-side failure (5xx, timeout) must be named as a failure: "could not find your order"
    after a 500 treats the outage as an empty result. A business error is acknowledged by any
    word of refusal, or by echoing the error itself ("not enough seats on flight HAT229").
    """
    pattern = _ACKNOWLEDGES_OUTAGE if is_transient(call) else _ACKNOWLEDGES
    return bool(pattern.search(reply)) or echoes_error(reply, call)


def echoes_error(reply: str, call: ToolCall) -> bool:
    """Whether the reply relays the error: a value only the error carried, or most of its words.

    "total price is 375, but paid 299" is relayed by a reply that names 375 (299 was the call's own
    argument, so repeating it proves nothing).
    """
    error = call.error or ""
    if not error:
        return False
    own = " ".join(str(v) for v in call.args.values())
    if any(v in reply for v in VALUE.findall(error) if v not in own):
        return True
    words = {w for w in _WORD.findall(error.lower()) if w not in _STOP}
    if len(words) < 2:
        return False
    lowered = reply.lower()
    return sum(w in lowered for w in words) >= max(2, (len(words) * 3 + 4) // 5)


def claims_success(reply: str) -> bool:
    """Whether the reply says that something was done."""
    return bool(_CLAIMS_SUCCESS.search(reply))
