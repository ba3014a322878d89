"""The conversation every producer records, and the facts the tests check in each sample."""

from typing import Any

USER = "Please refund order A1001."
SYSTEM = "You are a support agent. Use the tools."
ORDER = {"order_id": "A1001", "status": "delivered", "total": 42.5}
REFUND_ERROR = "payment service unavailable"
ANSWER = "I could not refund order A1001: the payment service is unavailable. I have noted it."
LOOKUP_ARGS = {"order_id": "A1001"}
REFUND_ARGS = {"order_id": "A1001", "amount": 42.5}
TOKENS = [(12, 7), (31, 9), (44, 15)]  # (input, output) of each model call
TASK_TYPE = "refund"
CONVERSATION = "conv-7"


def lookup_order(order_id: str) -> dict[str, Any]:
    """The order tool: succeeds."""
    return dict(ORDER, order_id=order_id)


def issue_refund(order_id: str, amount: float) -> dict[str, Any]:
    """The refund tool: fails the way a down payment service does."""
    raise RuntimeError(REFUND_ERROR)


def model_script() -> list[dict[str, Any]]:
    """What the fake model answers, call by call: look up, refund, answer."""
    from tests.fakes.openai_server import completion, tool_call

    return [
        completion(tool_calls=[tool_call("lookup_order", LOOKUP_ARGS, "call_lookup")], tokens=TOKENS[0]),
        completion(tool_calls=[tool_call("issue_refund", REFUND_ARGS, "call_refund")], tokens=TOKENS[1]),
        completion(ANSWER, tokens=TOKENS[2]),
    ]
