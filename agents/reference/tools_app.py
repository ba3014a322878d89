"""The reference agent's tools, as a real HTTP service: orders, accounts, refunds, tickets.

Like many real back-office APIs it checks that a request can be carried out (the order exists,
the amount is not more than is left to refund), not that it follows the refund policy: that is
the agent's job, so an agent that skips the lookup refunds undelivered or out-of-window orders.

Refunds are recorded per service instance and per conversation (the `X-Session-Id` header the
agent sends): a second refund in one conversation sees the first, while the trials of a case,
each its own conversation, never see each other's refunds and so stay repeatable. Requests
without the header share one ledger. Every error is JSON ``{"error": "..."}``.

For state assertions (a suite's `environment`), ``GET /state`` shows what the tools have done:
``{"refunds": {order_id: amount refunded}, "tickets": {ticket_id: {summary, customer_id}},
"ticket_count": n}``, over
every conversation, or over one with ``?session=<id>``; ``POST /reset`` forgets every refund and
ticket and restarts their numbering.
"""

import itertools
import threading
from typing import Annotated

from fastapi import FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from trailcheck.agents.reference.data import ACCOUNTS, ORDERS, PAYMENTS_DOWN_FOR
from trailcheck.agents.reference.schemas import (
    SESSION_HEADER,
    Account,
    Order,
    Refund,
    RefundRequest,
    Ticket,
    TicketRequest,
    ToolsState,
)

SessionId = Annotated[str, Header(alias=SESSION_HEADER)]


class ToolError(Exception):
    """A request the tools refuse; rendered as ``{"error": message}`` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _known(order_id: str) -> Order:
    order = ORDERS.get(order_id.upper())
    if order is None:
        raise ToolError(404, f"order {order_id} not found")
    return order


class _Ledger:
    """Refunds issued by one service instance, per conversation; safe across the server's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every refund and ticket; numbering starts again at 1."""
        with self._lock:
            self._refunded: dict[tuple[str, str], float] = {}
            self._tickets: dict[str, tuple[str, TicketRequest]] = {}
            self._refund_ids = itertools.count(1)
            self._ticket_ids = itertools.count(1)

    def state(self, session: str | None = None) -> ToolsState:
        """What the tools have done since the last reset, in one conversation or (None) in all."""
        with self._lock:
            refunds: dict[str, float] = {}
            for (owner, order_id), amount in self._refunded.items():
                if session is None or owner == session:
                    refunds[order_id] = round(refunds.get(order_id, 0.0) + amount, 2)
            tickets = {t: r for t, (owner, r) in self._tickets.items() if session is None or owner == session}
            return ToolsState(refunds=refunds, tickets=tickets, ticket_count=len(tickets))

    def order(self, session: str, order_id: str) -> Order:
        """The order, with what has been refunded on it so far in this conversation."""
        order = _known(order_id)
        with self._lock:
            return self._so_far(session, order)

    def refund(self, session: str, request: RefundRequest) -> Refund:
        """Approve and record a refund, or refuse one that cannot be carried out."""
        order = _known(request.order_id)
        if order.order_id in PAYMENTS_DOWN_FOR:
            raise ToolError(503, "payments provider unavailable")
        with self._lock:  # check and record at once: two concurrent refunds cannot both take the last dollar
            left = self._so_far(session, order).refundable
            amount = left if request.amount is None else round(request.amount, 2)
            if amount <= 0 or amount > left:
                raise ToolError(
                    409, f"refund of {amount:.2f} exceeds the {left:.2f} left to refund on {order.order_id}"
                )
            key = (session, order.order_id)
            self._refunded[key] = self._refunded.get(key, 0.0) + amount
            refund_id = f"R-{next(self._refund_ids):04d}"
        return Refund(refund_id=refund_id, order_id=order.order_id, amount=amount, status="approved")

    def ticket(self, session: str, request: TicketRequest) -> Ticket:
        """Open a ticket with the next ticket number."""
        with self._lock:
            ticket_id = f"T-{next(self._ticket_ids):04d}"
            self._tickets[ticket_id] = (session, request)
            return Ticket(ticket_id=ticket_id, status="open")

    def _so_far(self, session: str, order: Order) -> Order:
        # The caller holds the lock.
        issued = self._refunded.get((session, order.order_id), 0.0)
        return order.model_copy(update={"refunded": round(order.refunded + issued, 2)})


def create_tools_app() -> FastAPI:
    """A fresh tools service: no refunds issued yet, refund and ticket numbers counting from 1."""
    app = FastAPI(title="reference tools")
    ledger = _Ledger()

    @app.exception_handler(ToolError)
    async def tool_error(_: Request, exc: ToolError) -> JSONResponse:
        return JSONResponse(status_code=exc.status, content={"error": exc.message})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse(status_code=422, content={"error": f"invalid request: {problems}"})

    @app.get("/orders/{order_id}")
    def lookup_order(order_id: str, x_session_id: SessionId = "") -> Order:
        return ledger.order(x_session_id, order_id)

    @app.get("/accounts/{customer_id}")
    def lookup_account(customer_id: str) -> Account:
        account = ACCOUNTS.get(customer_id.upper())
        if account is None:
            raise ToolError(404, f"account {customer_id} not found")
        return account

    @app.get("/accounts/{customer_id}/orders")
    def list_orders(customer_id: str, x_session_id: SessionId = "") -> list[Order]:
        if customer_id.upper() not in ACCOUNTS:
            raise ToolError(404, f"account {customer_id} not found")
        mine = [o for o in ORDERS.values() if o.customer_id == customer_id.upper()]
        return [ledger.order(x_session_id, o.order_id) for o in mine]

    @app.post("/refunds")
    def issue_refund(request: RefundRequest, x_session_id: SessionId = "") -> Refund:
        return ledger.refund(x_session_id, request)

    @app.post("/tickets")
    def create_ticket(request: TicketRequest, x_session_id: SessionId = "") -> Ticket:
        return ledger.ticket(x_session_id, request)  # the body is validated; a colleague reads it

    @app.get("/state")
    def state(session: str | None = None) -> ToolsState:
        return ledger.state(session)

    @app.post("/reset", status_code=204)
    def reset() -> None:
        ledger.reset()

    return app
