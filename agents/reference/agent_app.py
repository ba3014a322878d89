"""The reference support-desk agent: deterministic rules instead of an LLM, real HTTP tools.

It speaks trailcheck's default protocol (agents/protocol.py) on ``POST /chat`` and reports
every tool call it made. Sessions (the order last talked about) live in memory per
session id, so multi-turn cases work.
"""

import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from fastapi import FastAPI
from pydantic import JsonValue

from agents.protocol import AgentReply, AgentRequest, ReportedToolCall, Usage
from agents.reference.behaviour import Behaviour, behaviour_of
from agents.reference.data import REFUND_WINDOW_DAYS, TODAY

ORDER_ID = re.compile(r"\b([A-Z]\d{4})\b", re.IGNORECASE)
CUSTOMER_ID = re.compile(r"\b(C\d{3})\b", re.IGNORECASE)
AMOUNT = re.compile(r"\$\s?(\d+(?:\.\d{1,2})?)")
WANTS_HUMAN = re.compile(r"\b(human|person|manager|real agent|someone real)\b", re.IGNORECASE)
WANTS_REFUND = re.compile(r"\b(refund|money back|reimburse)", re.IGNORECASE)
ABOUT_ACCOUNT = re.compile(r"\b(email|account|profile|address)\b", re.IGNORECASE)
PRICE_PER_INPUT_TOKEN, PRICE_PER_OUTPUT_TOKEN = 3e-6, 6e-6


@dataclass
class Session:
    """What the agent remembers between turns of one conversation."""

    last_order_id: str | None = None


@dataclass
class Turn:
    """One request being answered: the tools it calls are recorded as it goes."""

    client: httpx.AsyncClient
    calls: list[ReportedToolCall] = field(default_factory=list)
    escalated: bool = False

    async def tool(
        self, name: str, method: str, path: str, args: dict[str, JsonValue]
    ) -> tuple[bool, dict[str, JsonValue]]:
        """Call a tool; (ok, JSON body). A transport failure is a failed call, never an exception."""
        started = time.perf_counter()
        body: dict[str, JsonValue]
        try:
            response = await self.client.request(method, path, json=args if method == "POST" else None)
            status: int | None = response.status_code
            try:
                body = response.json()
            except ValueError:
                body = {"error": f"unreadable response: {response.text[:200]}"}
            error = None if response.is_success else str(body.get("error") or f"HTTP {status}")
        except httpx.HTTPError as exc:
            status, body, error = None, {}, f"{type(exc).__name__}: {exc}"
        self.calls.append(
            ReportedToolCall(
                name=name,
                args=args,
                result=body,
                error=error,
                status_code=status,
                latency_s=round(time.perf_counter() - started, 6),
            )
        )
        return error is None, body


def _ineligible(order: dict[str, JsonValue], amount: float | None) -> str | None:
    """Why the refund policy forbids this refund, or None."""
    oid, total, status = order["order_id"], float(order["total"]), order["status"]
    if status != "delivered":
        return f"Order {oid} has not been delivered yet (status: {status}), so it cannot be refunded yet."
    delivered = date.fromisoformat(str(order["delivered_on"]))
    if TODAY - delivered > timedelta(days=REFUND_WINDOW_DAYS):
        return (
            f"Order {oid} was delivered on {delivered}, outside the {REFUND_WINDOW_DAYS}-day refund window, "
            "so I cannot refund it."
        )
    if amount is not None and amount > total:
        return f"I can refund at most ${total:.2f} on order {oid}."
    return None


class SupportAgent:
    """The rules of one agent version."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    async def answer(self, turn: Turn, session: Session, request: AgentRequest) -> str:
        text = request.message
        order_match = ORDER_ID.search(text)
        if order_match:
            session.last_order_id = order_match.group(1).upper()
        if WANTS_HUMAN.search(text):
            return await self._hand_over(turn, "customer asked for a human", request)
        if WANTS_REFUND.search(text):
            amount = AMOUNT.search(text)
            return await self._refund(
                turn, session.last_order_id, float(amount.group(1)) if amount else None, text
            )
        if ABOUT_ACCOUNT.search(text):
            return await self._account(turn, request)
        if order_match:
            return await self._status(turn, session.last_order_id or "")
        return "I can help with orders, refunds and your account. What do you need?"

    async def _status(self, turn: Turn, order_id: str) -> str:
        ok, order = await turn.tool("lookup_order", "GET", f"/orders/{order_id}", {"order_id": order_id})
        if not ok:
            return self._lookup_failed(turn, order_id)
        if order["status"] == "delivered":
            return f"Order {order_id} ({order['item']}) was delivered on {order['delivered_on']}."
        return f"Order {order_id} ({order['item']}) is {order['status']}."

    def _lookup_failed(self, turn: Turn, order_id: str) -> str:
        if turn.calls[-1].status_code == 404:
            return f"I could not find order {order_id}. Please check the order number."
        error = turn.calls[-1].error
        return f"I could not look up order {order_id} right now ({error}). Please try again later."

    async def _refund(self, turn: Turn, order_id: str | None, amount: float | None, reason: str) -> str:
        if order_id is None:
            return "Which order would you like refunded? Please give me the order number (like A1001)."
        if self.behaviour.looks_up_before_refund:
            ok, order = await turn.tool("lookup_order", "GET", f"/orders/{order_id}", {"order_id": order_id})
            if not ok:
                return self._lookup_failed(turn, order_id)
            problem = _ineligible(order, amount)
            if problem:
                return problem
            amount = (
                amount if amount is not None else float(order["total"]) - float(order.get("refunded") or 0)
            )
        args: dict[str, JsonValue] = {"order_id": order_id, "reason": reason[:200]}
        if amount is not None:
            args["amount"] = round(amount, 2)
        ok, refund = await turn.tool("issue_refund", "POST", "/refunds", args)
        if ok:
            return (
                f"I have issued a refund of ${float(refund['amount']):.2f} for order {order_id} "
                f"(refund {refund['refund_id']}). It reaches your account in 3-5 business days."
            )
        if not self.behaviour.admits_tool_failures:
            shown = f" of ${amount:.2f}" if amount is not None else ""
            return f"Your refund{shown} for order {order_id} has been processed."
        error = turn.calls[-1].error
        handover = await self._hand_over(turn, f"refund of {order_id} failed: {error}", None)
        return f"I could not complete the refund for order {order_id}: {error}. {handover}"

    async def _account(self, turn: Turn, request: AgentRequest) -> str:
        match = CUSTOMER_ID.search(request.message)
        customer_id = match.group(1).upper() if match else request.context.get("customer_id")
        if not customer_id:
            return "Which account is this about? Please give me your customer number."
        ok, account = await turn.tool(
            "lookup_account", "GET", f"/accounts/{customer_id}", {"customer_id": str(customer_id)}
        )
        if not ok:
            return f"I could not find the account {customer_id}."
        return f"The email we have on file for {account['name']} is {account['email']}."

    async def _hand_over(self, turn: Turn, summary: str, request: AgentRequest | None) -> str:
        args: dict[str, JsonValue] = {"summary": summary}
        if request is not None and request.context.get("customer_id"):
            args["customer_id"] = request.context["customer_id"]
        ok, ticket = await turn.tool("create_ticket", "POST", "/tickets", args)
        if not ok:
            return "I could not reach a colleague right now; please call us on 0800 000 000."
        turn.escalated = True
        return f"I have opened ticket {ticket['ticket_id']} and a colleague will contact you shortly."


def _usage(message: str, reply: str, calls: int) -> Usage:
    return Usage(
        input_tokens=40 + 2 * len(message.split()) + 25 * calls, output_tokens=2 * len(reply.split())
    )


def create_agent_app(version: str, tools_base_url: str) -> FastAPI:
    """The agent service for `version`, calling its tools at `tools_base_url` (a gateway may sit there)."""
    agent = SupportAgent(behaviour_of(version))
    sessions: dict[str, Session] = {}
    app = FastAPI(title=f"reference agent {version}")
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        # Created on first use, inside the server's event loop.
        if not clients:
            clients.append(httpx.AsyncClient(base_url=tools_base_url, timeout=5.0))
        return clients[0]

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": version}

    @app.post("/chat")
    async def chat(request: AgentRequest) -> AgentReply:
        turn = Turn(client=client())
        session = sessions.setdefault(request.session_id, Session())
        reply = await agent.answer(turn, session, request)
        usage = _usage(request.message, reply, len(turn.calls))
        cost = usage.input_tokens * PRICE_PER_INPUT_TOKEN + usage.output_tokens * PRICE_PER_OUTPUT_TOKEN
        return AgentReply(
            reply=reply, escalated=turn.escalated, tool_calls=turn.calls, usage=usage, cost_usd=round(cost, 8)
        )

    return app
