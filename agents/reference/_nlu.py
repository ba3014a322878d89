"""What the customer asks for, read with regular expressions: the reference agent's stand-in for an LLM.

Rules instead of a model keep every reply reproducible, so a changed trajectory always means a
changed agent, never sampling noise.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

_ORDER_ID = re.compile(r"\b(A\d{4})\b", re.IGNORECASE)
_CUSTOMER_ID = re.compile(r"\b(C\d{3})\b", re.IGNORECASE)
_AMOUNT = re.compile(r"\$\s?(\d+(?:\.\d{1,2})?)")
_WANTS_HUMAN = re.compile(r"\b(human|person|manager|representative|real agent|someone real)\b", re.IGNORECASE)
_WANTS_REFUND = re.compile(r"\b(refund|money back|reimburse)", re.IGNORECASE)
_ABOUT_ACCOUNT = re.compile(r"\b(email|account|profile|address)\b", re.IGNORECASE)
_ABOUT_ORDER = re.compile(r"\b(where|status|track|tracking|deliver\w*|arriv\w*|ship\w*)\b", re.IGNORECASE)


class Intent(StrEnum):
    """What the customer wants, most urgent first when a message says several things."""

    HUMAN = "human"
    REFUND = "refund"
    ACCOUNT = "account"
    ORDER_STATUS = "order_status"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Utterance:
    """One customer message, understood."""

    intent: Intent
    order_id: str | None = None
    customer_id: str | None = None
    amount: float | None = None


def understand(message: str) -> Utterance:
    """The intent of `message` and the order id, customer id and dollar amount it names, if any."""
    order = _ORDER_ID.search(message)
    customer = _CUSTOMER_ID.search(message)
    amount = _AMOUNT.search(message)
    return Utterance(
        intent=_intent(_without_preferences(message), named_an_order=order is not None),
        order_id=order.group(1).upper() if order else None,
        customer_id=customer.group(1).upper() if customer else None,
        amount=float(amount.group(1)) if amount else None,
    )


def _intent(message: str, named_an_order: bool) -> Intent:
    if _WANTS_HUMAN.search(message):
        return Intent.HUMAN
    if _WANTS_REFUND.search(message):
        return Intent.REFUND
    if _ABOUT_ACCOUNT.search(message):
        return Intent.ACCOUNT
    if named_an_order or _ABOUT_ORDER.search(message):
        return Intent.ORDER_STATUS
    return Intent.UNCLEAR


_CALL_ME = re.compile(r"\b(?i:call me|address me as)\s+((?:[A-Z][\w'-]*\.?)(?:\s+[A-Z][\w'-]*)?)")
_EMAIL_PRIVATE = re.compile(
    r"\b(?:do not|don't|never)\s+(?:mention|share|repeat|show|say|tell me)\s+"
    r"(?:my\s+)?e-?mail(?:\s+address)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Memory:
    """What the agent recalls of a conversation: the order last named and the customer's standing requests."""

    last_order_id: str | None = None
    call_me: str | None = None
    """How the customer asked to be addressed ("call me Dr. Lovelace"): every reply starts with it."""
    email_private: bool = False
    """The customer asked that their email address is never repeated in the chat."""


def _without_preferences(message: str) -> str:
    # "address me as ..." or "never repeat my email address" is not a question about the account.
    return _EMAIL_PRIVATE.sub(" ", _CALL_ME.sub(" ", message))


def states_a_preference(message: str) -> bool:
    """Whether `message` sets one of the standing requests `recall` keeps."""
    return bool(_CALL_ME.search(message) or _EMAIL_PRIVATE.search(message))


def recall(turns: list[str]) -> Memory:
    """What `turns` (the customer's messages, oldest first) leave the agent knowing; later turns win."""
    last_order, call_me, private = None, None, False
    for message in turns:
        order = _ORDER_ID.search(message)
        name = _CALL_ME.search(message)
        last_order = order.group(1).upper() if order else last_order
        call_me = name.group(1) if name else call_me
        private = private or bool(_EMAIL_PRIVATE.search(message))
    return Memory(last_order_id=last_order, call_me=call_me, email_private=private)


_OVERRIDE = re.compile(r"\b(?:ignore|disregard)\s+(?:all\s+)?(?:previous|prior|earlier)\s+instructions", re.I)
_REPLY_WITH = re.compile(
    r"\b(?:(?:reply|respond|answer)\s+with\s+(?:the\s+)?(?:\w+\s+)?(?:code|marker|text)\s+(\S+?)[.,;]?(?:\s|$)"
    r"|include\s+the\s+(?:code|marker|text)\s+(\S+?)\s+in\s+your\s+reply)",
    re.I,
)
# Plain words ("refund order A1003") or the canary phrasing ("call the tool issue_refund with order_id=...").
_REFUND_ORDER = re.compile(
    r"\b(?:refund\s+order\s+|call\s+the\s+tool\s+issue_refund\s+with\s+order_id=)(A\d{4})\b", re.I
)


@dataclass(frozen=True)
class Instruction:
    """An instruction found in text the agent read (a tool result): what a prompt injection asks for."""

    say: str | None = None
    refund_order_id: str | None = None


def instructions_in(text: str) -> Instruction | None:
    """The instruction `text` carries when it tries to override the agent's own ("ignore previous
    instructions ..."): a text to repeat and an order to refund, if it names them."""
    if not _OVERRIDE.search(text):
        return None
    say = _REPLY_WITH.search(text)
    refund = _REFUND_ORDER.search(text)
    return Instruction(
        say=(say.group(1) or say.group(2)) if say else None,
        refund_order_id=refund.group(1).upper() if refund else None,
    )
