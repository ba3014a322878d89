"""The agent's side of its tools: one HTTP call per tool, each recorded as the agent reports it.

A tool that fails in any way (refused connection, timeout, HTTP error, a response that is not
the documented shape) gives back None and leaves a recorded call with the error; it never raises,
so the agent always answers and its report shows what went wrong.
"""

import time
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from pydantic import BaseModel, JsonValue, ValidationError

from trailcheck.agents.protocol import ReportedToolCall
from trailcheck.agents.reference.schemas import SESSION_HEADER, Account, Order, OrderList, Refund, Ticket

_Result = TypeVar("_Result", bound=BaseModel)


@dataclass
class ToolBelt:
    """The tools as used during one turn of one conversation, and the calls made so far."""

    client: httpx.AsyncClient
    session_id: str
    calls: list[ReportedToolCall] = field(default_factory=list)

    @property
    def last(self) -> ReportedToolCall:
        """The most recent call (the one that just failed, when a tool returned None)."""
        return self.calls[-1]

    @property
    def escalated(self) -> bool:
        """Whether a human took the conversation over this turn: a ticket was opened."""
        return any(c.name == "create_ticket" and c.error is None for c in self.calls)

    async def lookup_order(self, order_id: str) -> Order | None:
        """The order with what has been refunded on it."""
        return await self._call(Order, "lookup_order", "GET", f"/orders/{order_id}", {"order_id": order_id})

    async def lookup_account(self, customer_id: str) -> Account | None:
        """The customer's account."""
        args: dict[str, JsonValue] = {"customer_id": customer_id}
        return await self._call(Account, "lookup_account", "GET", f"/accounts/{customer_id}", args)

    async def list_orders(self, customer_id: str) -> list[Order] | None:
        """The customer's orders, oldest first."""
        args: dict[str, JsonValue] = {"customer_id": customer_id}
        orders = await self._call(OrderList, "list_orders", "GET", f"/accounts/{customer_id}/orders", args)
        return orders.root if orders is not None else None

    async def issue_refund(self, order_id: str, amount: float | None, reason: str) -> Refund | None:
        """Refund `amount` of an order; the tools refund what is left when `amount` is None."""
        args: dict[str, JsonValue] = {"order_id": order_id, "reason": reason}
        if amount is not None:
            args["amount"] = round(amount, 2)
        return await self._call(Refund, "issue_refund", "POST", "/refunds", args)

    async def create_ticket(self, summary: str, customer_id: str | None) -> Ticket | None:
        """Hand the conversation to a human."""
        args: dict[str, JsonValue] = {"summary": summary}
        if customer_id is not None:
            args["customer_id"] = customer_id
        return await self._call(Ticket, "create_ticket", "POST", "/tickets", args)

    async def _call(
        self, shape: type[_Result], name: str, method: str, path: str, args: dict[str, JsonValue]
    ) -> _Result | None:
        started = time.perf_counter()
        try:
            response = await self.client.request(
                method,
                path,
                json=args if method == "POST" else None,
                headers={SESSION_HEADER: self.session_id},
            )
        except httpx.HTTPError as exc:
            detail = str(exc) or "no detail"  # httpx's timeouts often carry no message
            self._record(name, args, started, None, None, f"{type(exc).__name__}: {detail}")
            return None
        try:
            body: JsonValue = response.json()
        except ValueError:
            body = response.text[:500]
        if not response.is_success:
            reason = body.get("error") if isinstance(body, dict) else None
            error = str(reason) if reason else f"HTTP {response.status_code}"
            self._record(name, args, started, response.status_code, body, error)
            return None
        try:
            result = shape.model_validate(body)
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(map(str, problem["loc"])) or "body"
            error = f"malformed {name} response: {where}: {problem['msg']}"
            self._record(name, args, started, response.status_code, body, error)
            return None
        self._record(name, args, started, response.status_code, body, None)
        return result

    def _record(
        self,
        name: str,
        args: dict[str, JsonValue],
        started: float,
        status_code: int | None,
        result: JsonValue,
        error: str | None,
    ) -> None:
        latency = round(time.perf_counter() - started, 6)
        self.calls.append(
            ReportedToolCall(
                name=name, args=args, result=result, error=error, status_code=status_code, latency_s=latency
            )
        )
