"""A Python-callable agent for the tests (a suite or --agent names it as python:tests.agent_fixtures:...)."""

from agents.protocol import AgentReply, AgentRequest


async def echo_agent(request: AgentRequest) -> AgentReply:
    return AgentReply(reply=f"echo: {request.message}", tool_calls=[{"name": "echo", "args": {"n": 1}}])


def sync_dict_agent(request: AgentRequest) -> dict:
    return {"reply": "ok", "escalated": "human" in request.message, "usage": {"input_tokens": 3}}


def crashing_agent(request: AgentRequest) -> dict:
    raise KeyError("customer_id")


def garbage_agent(request: AgentRequest) -> object:
    return 42
