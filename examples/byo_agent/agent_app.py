"""A small pydantic-ai agent served by FastAPI: the kind of service trailcheck meets in a team's repo.

The model is pydantic-ai's FunctionModel (a deterministic function stands in for the LLM), so it
runs offline; everything else is as in production: tools are HTTP calls to the tool service at
``$TOOLS_URL``, every conversation is a thread, and the thread id goes with each tool call as
``X-Session-Id`` so trailcheck's gateway can tell conversations apart.

    POST /threads/{thread_id}/messages  {"prompt": "...", "customer_id": "C1"}
      -> {"output": {"text": "..."}, "usage": {"input_tokens": 12, "output_tokens": 9}}
"""

import os
import re
from dataclasses import dataclass

import httpx
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError
from pydantic_ai import Agent, RunContext
from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel

TOOLS_URL = os.environ.get("TOOLS_URL", "http://127.0.0.1:8701")
SESSION_HEADER = os.environ.get("TRAILCHECK_SESSION_HEADER", "X-Session-Id")
ORDER_ID = re.compile(r"\b([A-Z]\d{4})\b")


class Order(BaseModel):
    """What the agent expects from the order service; anything else is an error it reports."""

    order_id: str
    status: str
    eta: str


class OrderList(BaseModel):
    orders: list[Order]


@dataclass
class Deps:
    thread_id: str
    customer_id: str | None
    client: httpx.AsyncClient


def model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    """The stand-in LLM: pick a tool from the last user prompt, then answer from the tool's result."""
    last = messages[-1]
    returned = (
        [p for p in last.parts if isinstance(p, ToolReturnPart)] if isinstance(last, ModelRequest) else []
    )
    if returned:
        return ModelResponse(parts=[TextPart(answer(returned[0].tool_name, returned[0].content))])
    prompt = next(
        (
            p.content
            for p in reversed(last.parts)
            if isinstance(p, UserPromptPart) and isinstance(p.content, str)
        ),
        "",
    )
    found = ORDER_ID.search(prompt)
    if found:
        return ModelResponse(parts=[ToolCallPart("lookup_order", {"order_id": found.group(1)})])
    if "orders" in prompt.lower():
        return ModelResponse(parts=[ToolCallPart("list_orders", {"limit": 2})])
    return ModelResponse(parts=[TextPart("I can look up an order for you: what is its number?")])


def answer(tool: str, result: object) -> str:
    if isinstance(result, dict) and "error" in result:
        return f"Sorry, the order service failed ({result['error']}); please try again in a moment."
    if tool == "lookup_order" and isinstance(result, dict):
        return f"Order {result['order_id']} is {result['status']}, expected {result['eta']}."
    orders = result.get("orders", []) if isinstance(result, dict) else []
    listed = ", ".join(f"{o.get('order_id')} ({o.get('status')})" for o in orders if isinstance(o, dict))
    return f"Your latest orders: {listed}." if listed else "I found no orders on your account."


agent = Agent(FunctionModel(model), deps_type=Deps)


async def _get(ctx: RunContext[Deps], path: str, params: dict[str, int] | None = None) -> object:
    try:
        response = await ctx.deps.client.get(
            f"{TOOLS_URL}{path}", params=params, headers={SESSION_HEADER: ctx.deps.thread_id}
        )
    except httpx.HTTPError as exc:
        return {"error": f"unreachable: {type(exc).__name__}"}
    if response.status_code >= 400:
        return {"error": f"HTTP {response.status_code}"}
    try:
        return response.json()
    except ValueError:
        return {"error": "unreadable answer"}


@agent.tool
async def lookup_order(ctx: RunContext[Deps], order_id: str) -> dict[str, object]:
    """Look an order up by its number."""
    document = await _get(ctx, f"/orders/{order_id}")
    if isinstance(document, dict) and "error" in document:
        return document
    try:
        return Order.model_validate(document).model_dump()
    except ValidationError:
        return {"error": "unexpected answer from the order service"}


@agent.tool
async def list_orders(ctx: RunContext[Deps], limit: int) -> dict[str, object]:
    """The customer's latest orders."""
    if not ctx.deps.customer_id:
        return {"error": "no customer on this conversation"}
    document = await _get(ctx, f"/customers/{ctx.deps.customer_id}/orders", {"limit": limit})
    if isinstance(document, dict) and "error" in document:
        return document
    try:
        return OrderList.model_validate(document).model_dump()
    except ValidationError:
        return {"error": "unexpected answer from the order service"}


class Message(BaseModel):
    prompt: str
    customer_id: str | None = None


app = FastAPI(title="support agent")
threads: dict[str, list[ModelMessage]] = {}
client = httpx.AsyncClient(timeout=5.0)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/threads/{thread_id}/messages")
async def post_message(thread_id: str, message: Message) -> dict[str, object]:
    deps = Deps(thread_id, message.customer_id, client)
    result = await agent.run(message.prompt, deps=deps, message_history=threads.get(thread_id))
    threads[thread_id] = result.all_messages()
    usage = result.usage
    return {
        "output": {"text": result.output},
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    }
