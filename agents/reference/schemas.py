"""The reference tools' wire format: the tools service serves it, the agent checks every response against it.

The agent validates every tool response against these models, so a malformed or empty response
(as a fault-injecting gateway sends) is a failed tool call, never a crash or a made-up answer.
"""

from datetime import date
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

SESSION_HEADER = "X-Session-Id"
"""Sent by the agent with every tool call; the tools service keeps refunds apart per conversation."""


class Order(BaseModel):
    """An order as `GET /orders/{order_id}` returns it."""

    order_id: str
    customer_id: str
    status: Literal["processing", "shipped", "delivered"]
    item: str
    total: float = Field(gt=0)
    delivered_on: date | None = None
    refunded: float = Field(default=0.0, ge=0, description="Amount already refunded.")

    @model_validator(mode="after")
    def _delivered_has_a_date(self) -> Self:
        # The refund window is counted from the delivery date; without one the policy cannot be applied.
        if self.status == "delivered" and self.delivered_on is None:
            raise ValueError("a delivered order needs delivered_on")
        return self

    @property
    def refundable(self) -> float:
        """What is left to refund."""
        return round(self.total - self.refunded, 2)


class OrderList(RootModel[list[Order]]):
    """A customer's orders as `GET /accounts/{customer_id}/orders` returns them, oldest first."""


class Account(BaseModel):
    """A customer account as `GET /accounts/{customer_id}` returns it."""

    customer_id: str
    name: str
    email: str
    tier: Literal["standard", "gold"]
    status: Literal["active", "suspended"]


class RefundRequest(BaseModel):
    """The body of `POST /refunds`: refund `amount` of an order (what is left to refund when omitted)."""

    model_config = ConfigDict(extra="forbid")

    order_id: str
    amount: float | None = Field(default=None, gt=0)
    reason: str = ""


class Refund(BaseModel):
    """An approved refund."""

    refund_id: str
    order_id: str
    amount: float = Field(gt=0)
    status: Literal["approved"]


class TicketRequest(BaseModel):
    """The body of `POST /tickets`: hand the conversation to a human."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1)
    customer_id: str | None = None


class Ticket(BaseModel):
    """An open ticket a colleague will pick up."""

    ticket_id: str
    status: Literal["open"]


class ToolsState(BaseModel):
    """What the tools service has done since its last reset (`GET /state`), for state assertions."""

    refunds: dict[str, float] = Field(default_factory=dict, description="Order id -> amount refunded.")
    tickets: dict[str, TicketRequest] = Field(default_factory=dict, description="Ticket id -> what it says.")
    ticket_count: int = Field(default=0, description="How many tickets were opened.")
