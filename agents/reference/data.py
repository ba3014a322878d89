"""The reference shop's fixed data. "Today" is fixed so the agent's behaviour never depends on the clock."""

from datetime import date

from pydantic import BaseModel

TODAY = date(2026, 11, 20)
REFUND_WINDOW_DAYS = 30


class Order(BaseModel):
    """An order as the orders tool returns it."""

    order_id: str
    customer_id: str
    status: str  # processing | shipped | delivered
    total: float
    item: str
    delivered_on: date | None = None


class Account(BaseModel):
    """A customer account as the accounts tool returns it."""

    customer_id: str
    name: str
    email: str
    tier: str


ACCOUNTS = {
    a.customer_id: a
    for a in (
        Account(customer_id="C100", name="Ada Lovelace", email="ada@example.com", tier="gold"),
        Account(customer_id="C200", name="Alan Turing", email="alan@example.com", tier="standard"),
    )
}

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
        # Refunds of this order fail at the payments provider (HTTP 503): the tool-failure fixture.
        Order(order_id="A1005", customer_id="C200", status="delivered", total=25.00, item="coasters",
              delivered_on=date(2026, 11, 12)),
    )
}  # fmt: skip

PAYMENTS_DOWN_FOR = frozenset({"A1005"})
