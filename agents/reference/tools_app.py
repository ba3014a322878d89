"""The reference agent's tools, as a real HTTP service: orders, accounts, refunds, tickets.

Like many real back-office APIs it checks that a request is well formed, not that it follows
the refund policy: that is the agent's job (an agent that skips the lookup refunds anything).
It keeps no refund history, so repeated trials of a case start from the same state.
"""

import itertools
import threading

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from agents.reference.data import ACCOUNTS, ORDERS, PAYMENTS_DOWN_FOR


class RefundRequest(BaseModel):
    """Refund `amount` (the whole order when omitted) of an order."""

    order_id: str
    amount: float | None = Field(default=None, gt=0)
    reason: str = ""


class TicketRequest(BaseModel):
    """Hand a conversation to a human."""

    summary: str
    customer_id: str | None = None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message})


def create_tools_app() -> FastAPI:
    """A fresh tools service (refund and ticket ids count from 1)."""
    app = FastAPI(title="reference tools")
    lock = threading.Lock()
    ids = itertools.count(1)

    @app.get("/orders/{order_id}")
    def lookup_order(order_id: str) -> object:
        order = ORDERS.get(order_id.upper())
        if order is None:
            return _error(404, f"order {order_id} not found")
        return order.model_dump(mode="json")

    @app.get("/accounts/{customer_id}")
    def lookup_account(customer_id: str) -> object:
        account = ACCOUNTS.get(customer_id.upper())
        return account.model_dump() if account else _error(404, f"account {customer_id} not found")

    @app.post("/refunds")
    def issue_refund(request: RefundRequest) -> object:
        order = ORDERS.get(request.order_id.upper())
        if order is None:
            return _error(404, f"order {request.order_id} not found")
        if order.order_id in PAYMENTS_DOWN_FOR:
            return _error(503, "payments provider unavailable")
        amount = request.amount if request.amount is not None else order.total
        if amount > order.total + 1e-9:
            return _error(409, f"refund of {amount:.2f} exceeds the order total {order.total:.2f}")
        with lock:
            refund_id = f"R-{next(ids):04d}"
        return {"refund_id": refund_id, "order_id": order.order_id, "amount": amount, "status": "approved"}

    @app.post("/tickets")
    def create_ticket(request: TicketRequest) -> object:
        with lock:
            ticket_id = f"T-{next(ids):04d}"
        return {"ticket_id": ticket_id, "status": "open", "summary": request.summary}

    return app
