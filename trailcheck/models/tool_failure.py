"""What a failed tool call is: the one definition replay, the gateway and recorded traces share.

A tool call failed when any of these holds (`ToolCall.failed` reads the outcome):

1. an error was recorded beside the result: the gateway or the tool loop saw a transport error,
   a timeout or an injected fault; a trace recorded one (a tool message's ``error``, an OTel tool
   span in ERROR status, with an ``exception`` event or an ``error.type`` attribute, an Anthropic
   ``tool_result`` with ``is_error``, a pydantic-ai tool return whose outcome is not ``success``
   or a ``retry-prompt`` for a tool, an Agents SDK function span with an ``error``);
2. the tool answered an HTTP error status (``status_code`` >= 400);
3. the result is an error payload: a JSON object with a non-empty ``error`` key;
4. the result is error text: it starts with ``Error`` (the tau-bench convention) or is the
   OpenAI Agents SDK's default failure message (``An error occurred while running the tool``);
5. with an inventory (`trailcheck score --inventory`, the fault matrix, replays through the
   gateway): a 2xx result that breaks the tool's response contract. An empty result (``{}``,
   ``[]``, ``""``) where the contract requires fields is ``empty result``, the same words the
   fault matrix's empty_result fault records, so a recorded ``{}`` counts the same in `score`
   as in the matrix; any other break is ``schema broken: <where and why>``.

Rules 1 and 2 are set by whoever records the call; 3 and 4 are `error_in_result`; 5 is
`contract_error` (applied by trailcheck/checks/contracts/inline.py, which holds the validators).
"""

from typing import Any

AGENTS_SDK_FAILURE = "An error occurred while running the tool"
EMPTY_RESULT = "empty result"
SCHEMA_BROKEN = "schema broken"


def error_in_result(content: Any, parsed: Any) -> str | None:
    """Rules 3 and 4: the error a result (raw `content`, JSON-decoded `parsed`) carries, or None."""
    if isinstance(content, str) and (content.startswith("Error") or content.startswith(AGENTS_SDK_FAILURE)):
        return content
    if isinstance(parsed, dict) and parsed.get("error"):
        return str(parsed["error"])
    return None


def contract_error(result: Any, problem: str) -> str:
    """Rule 5: the error of a result that breaks its contract (`problem` says where and why)."""
    if result in ({}, [], "", None):
        return EMPTY_RESULT
    return f"{SCHEMA_BROKEN}: {problem}"
