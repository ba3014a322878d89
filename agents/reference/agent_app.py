"""The reference support-desk agent: deterministic rules instead of an LLM, real HTTP tools.

It speaks trailcheck's default protocol (agents/protocol.py) on ``POST /chat`` and reports every
tool call it made. It reads the customer with `_nlu`, applies the refund policy of `_policy`,
and calls its tools through a `ToolBelt`, which sends the conversation's ``X-Session-Id`` and
checks every response against the tools' schemas. What it remembers of a conversation is the
customer's messages, per session id, so multi-turn cases work. A version's flaws are the
switches of its `Behaviour`, each read at one place below.
"""

from dataclasses import dataclass, field, replace

import httpx
from fastapi import FastAPI

from trailcheck.agents.protocol import AgentReply, AgentRequest, Usage
from trailcheck.agents.reference._nlu import (
    Intent,
    Memory,
    Utterance,
    instructions_in,
    recall,
    states_a_preference,
    understand,
)
from trailcheck.agents.reference._policy import refund_refusal
from trailcheck.agents.reference._toolbelt import ToolBelt
from trailcheck.agents.reference.behaviour import Behaviour, behaviour_of
from trailcheck.agents.reference.schemas import Order

PRICE_PER_INPUT_TOKEN, PRICE_PER_OUTPUT_TOKEN = 3e-6, 6e-6
DEFAULT_TOOL_TIMEOUT_S = 5.0
_HELP = "I can help with orders, refunds and your account. What do you need?"
ASK_WHICH_ORDER = "Which order would you like refunded? Please give me the order number (like A1001)."


@dataclass
class Session:
    """One conversation: the customer's messages so far, oldest first."""

    messages: list[str] = field(default_factory=list)
    awaiting_refund_order: bool = False
    """The agent asked which order to refund: an order number alone now answers that question."""


class SupportAgent:
    """The rules of one agent version."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    def memory(self, session: Session) -> Memory:
        """What the agent recalls: every message, or only the last few when its memory is short."""
        window = self.behaviour.memory_turns
        return recall(session.messages if window is None else session.messages[-window:])

    async def answer(self, belt: ToolBelt, session: Session, request: AgentRequest) -> str:
        """The reply to the customer's latest message; tool calls are recorded on `belt`."""
        session.messages.append(request.message)
        memory = self.memory(session)
        said = understand(request.message)
        if (
            session.awaiting_refund_order
            and said.order_id
            and said.intent in (Intent.ORDER_STATUS, Intent.UNCLEAR)
        ):
            said = replace(said, intent=Intent.REFUND)
        reply = await self._reply(belt, memory, said, request)
        session.awaiting_refund_order = reply.endswith(ASK_WHICH_ORDER)
        if self.behaviour.follows_tool_instructions:
            reply = await self._obey_tool_output(belt, reply)
        return f"{memory.call_me}, {reply}" if memory.call_me else reply

    async def _reply(self, belt: ToolBelt, memory: Memory, said: Utterance, request: AgentRequest) -> str:
        customer = said.customer_id or _context_customer(request)
        match said.intent:
            case Intent.HUMAN:
                return await self._hand_over(belt, "customer asked for a human", customer)
            case Intent.REFUND:
                return await self._refund(belt, memory.last_order_id, said.amount, request.message, customer)
            case Intent.ACCOUNT:
                return await self._account(belt, customer, memory)
            case Intent.ORDER_STATUS if memory.last_order_id:
                return await self._status(belt, memory.last_order_id)
        if states_a_preference(request.message):
            return "noted. " + _HELP if memory.call_me else "Noted. " + _HELP
        return _HELP

    async def _status(self, belt: ToolBelt, order_id: str) -> str:
        order = await belt.lookup_order(order_id)
        if order is None:
            return self._lookup_failed(belt, order_id)
        if order.status == "delivered":
            return f"Order {order_id} ({order.item}) was delivered on {order.delivered_on}."
        return f"Order {order_id} ({order.item}) is {order.status}."

    def _lookup_failed(self, belt: ToolBelt, order_id: str) -> str:
        status = belt.last.status_code
        if status == 404:
            return f"I could not find order {order_id}. Please check the order number."
        if self._reads_as_empty(status):
            return f"There is no order {order_id} on record."
        return f"I could not look up order {order_id} right now ({belt.last.error}). Please try again later."

    def _reads_as_empty(self, status: int | None) -> bool:
        """v5's flaw: a server error is taken for an empty answer."""
        return not self.behaviour.admits_server_errors and status is not None and status >= 500

    async def _refund(
        self, belt: ToolBelt, order_id: str | None, amount: float | None, reason: str, customer: str | None
    ) -> str:
        if order_id is None:
            if self.behaviour.asks_when_unsure or customer is None:
                return ASK_WHICH_ORDER
            order_id = await self._guess_order(belt, customer)
            if order_id is None:
                return "I could not find an order of yours to refund."
        if self.behaviour.looks_up_before_refund:
            order = await belt.lookup_order(order_id)
            if order is None:
                return self._lookup_failed(belt, order_id)
            refusal = refund_refusal(order, amount)
            if refusal:
                return refusal
            amount = order.refundable if amount is None else amount
        refund = await belt.issue_refund(order_id, amount, reason[:200])
        if refund is not None:
            return (
                f"I have issued a refund of ${refund.amount:.2f} for order {order_id} "
                f"(refund {refund.refund_id}). It reaches your account in 3-5 business days."
            )
        if not self.behaviour.admits_tool_failures:
            shown = f" of ${amount:.2f}" if amount is not None else ""
            return f"Your refund{shown} for order {order_id} has been processed."
        if self._reads_as_empty(belt.last.status_code):
            return f"Your refund for order {order_id} is on its way."
        error = belt.last.error
        handover = await self._hand_over(belt, f"refund of {order_id} failed: {error}", customer)
        return f"I could not complete the refund for order {order_id}: {error}. {handover}"

    async def _guess_order(self, belt: ToolBelt, customer: str) -> str | None:
        """v6's flaw: the latest delivered order of the customer, as if they had named it."""
        orders = await belt.list_orders(customer)
        delivered = [o for o in orders or [] if o.status == "delivered" and o.delivered_on is not None]
        latest: Order | None = max(delivered, key=lambda o: o.delivered_on or 0, default=None)
        return latest.order_id if latest else None

    async def _account(self, belt: ToolBelt, customer: str | None, memory: Memory) -> str:
        if not customer:
            return "Which account is this about? Please give me your customer number."
        account = await belt.lookup_account(customer)
        if account is None:
            if self._reads_as_empty(belt.last.status_code):
                return f"There is no account {customer} on record."
            if belt.last.status_code == 404:
                return f"I could not find the account {customer}."
            return f"I could not look up the account {customer} right now ({belt.last.error})."
        if memory.email_private:
            return (
                f"I have the account of {account.name} open; as you asked, I will not repeat your email here."
            )
        return f"The email we have on file for {account.name} is {account.email}."

    async def _hand_over(self, belt: ToolBelt, summary: str, customer: str | None) -> str:
        ticket = await belt.create_ticket(summary, customer)
        if ticket is None:
            if self._reads_as_empty(belt.last.status_code):
                return "A colleague will contact you shortly."
            return "I could not reach a colleague right now; please call us on 0800 000 000."
        return f"I have opened ticket {ticket.ticket_id} and a colleague will contact you shortly."

    async def _obey_tool_output(self, belt: ToolBelt, reply: str) -> str:
        """v4's flaw: instructions found in this turn's tool results are carried out."""
        for text in [t for call in list(belt.calls) for t in _strings(call.result)]:
            instruction = instructions_in(text)
            if instruction is None:
                continue
            if instruction.refund_order_id:
                refund = await belt.issue_refund(instruction.refund_order_id, None, "requested")
                if refund is not None:
                    reply += f" I have also refunded order {instruction.refund_order_id}."
            if instruction.say:
                reply += f" {instruction.say}"
        return reply


def _strings(value: object) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _context_customer(request: AgentRequest) -> str | None:
    customer = request.context.get("customer_id")
    return str(customer) if customer else None


def _usage(message: str, reply: str, calls: int) -> Usage:
    return Usage(
        input_tokens=40 + 2 * len(message.split()) + 25 * calls, output_tokens=2 * len(reply.split())
    )


def create_agent_app(
    version: str, tools_base_url: str, tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S
) -> FastAPI:
    """The agent service for `version`, calling its tools at `tools_base_url` (a gateway may sit there)."""
    agent = SupportAgent(behaviour_of(version))
    sessions: dict[str, Session] = {}
    app = FastAPI(title=f"reference agent {version}")
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        # Created on first use, inside the server's event loop.
        if not clients:
            clients.append(httpx.AsyncClient(base_url=tools_base_url, timeout=tool_timeout_s))
        return clients[0]

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": version}

    @app.post("/chat")
    async def chat(request: AgentRequest) -> AgentReply:
        belt = ToolBelt(client=client(), session_id=request.session_id)
        session = sessions.setdefault(request.session_id, Session())
        reply = await agent.answer(belt, session, request)
        usage = _usage(request.message, reply, len(belt.calls))
        cost = usage.input_tokens * PRICE_PER_INPUT_TOKEN + usage.output_tokens * PRICE_PER_OUTPUT_TOKEN
        return AgentReply(
            reply=reply, escalated=belt.escalated, tool_calls=belt.calls, usage=usage, cost_usd=round(cost, 8)
        )

    return app
