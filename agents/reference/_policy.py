"""The shop's refund policy, which the agent must apply itself: the refunds tool does not."""

from datetime import timedelta

from trailcheck.agents.reference.data import REFUND_WINDOW_DAYS, TODAY
from trailcheck.agents.reference.schemas import Order


def refund_refusal(order: Order, amount: float | None) -> str | None:
    """Why the policy forbids refunding `amount` (all that is left when None) of `order`, or None."""
    oid = order.order_id
    if order.status != "delivered" or order.delivered_on is None:
        return (
            f"Order {oid} has not been delivered yet (status: {order.status}), so it cannot be refunded yet."
        )
    if TODAY - order.delivered_on > timedelta(days=REFUND_WINDOW_DAYS):
        return (
            f"Order {oid} was delivered on {order.delivered_on}, outside the {REFUND_WINDOW_DAYS}-day "
            "refund window, so I cannot refund it."
        )
    if order.refundable <= 0:
        return f"Order {oid} has already been refunded in full (${order.refunded:.2f})."
    if amount is not None and amount <= 0:
        return "A refund has to be more than $0.00. How much should I refund?"
    if amount is not None and amount > order.refundable:
        return f"I can refund at most ${order.refundable:.2f} on order {oid}."
    return None
