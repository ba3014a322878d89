"""The reference shop's fixed data. "Today" is fixed so the agent's behaviour never depends on the clock.

Each order exists to exercise one path of the refund policy:

- A1001, A1004: delivered within the refund window (full and partial refunds);
- A1002: shipped, not delivered yet;
- A1003: delivered outside the 30-day refund window;
- A1005: delivered, but the payments provider fails its refunds (HTTP 503);
- A1006: delivered and already refunded in full.
"""

from datetime import date

from trailcheck.agents.reference.schemas import Account, Order

TODAY = date(2026, 11, 20)
REFUND_WINDOW_DAYS = 30

ACCOUNTS = {
    a.customer_id: a
    for a in (
        Account(customer_id="C100", name="Ada Lovelace", email="ada@example.com", tier="gold",
                status="active"),
        Account(customer_id="C200", name="Alan Turing", email="alan@example.com", tier="standard",
                status="active"),
        Account(customer_id="C300", name="Grace Hopper", email="grace@example.com", tier="standard",
                status="suspended"),
    )
}  # fmt: skip

ORDERS = {
    o.order_id: o
    for o in (
        Order(order_id="A1001", customer_id="C100", status="delivered", total=42.50, item="kettle",
              delivered_on=date(2026, 11, 10)),
        Order(order_id="A1002", customer_id="C100", status="shipped", total=15.99, item="tea towels"),
        Order(order_id="A1003", customer_id="C100", status="delivered", total=89.00, item="teapot",
              delivered_on=date(2026, 9, 1)),
        Order(order_id="A1004", customer_id="C200", status="delivered", total=60.00, item="mugs",
              delivered_on=date(2026, 11, 15)),
        Order(order_id="A1005", customer_id="C200", status="delivered", total=25.00, item="coasters",
              delivered_on=date(2026, 11, 12)),
        Order(order_id="A1006", customer_id="C300", status="delivered", total=30.00, item="tea caddy",
              delivered_on=date(2026, 11, 5), refunded=30.00),
    )
}  # fmt: skip

PAYMENTS_DOWN_FOR = frozenset({"A1005"})
"""Orders whose refunds fail at the payments provider: the tool-failure fixture."""
