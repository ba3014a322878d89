"""Build the adapter for an agent config."""

import httpx

from agents.base import AgentAdapter
from agents.config import AgentConfig, HttpAgentConfig, OpenAIAgentConfig, PythonAgentConfig


def build_adapter(config: AgentConfig, client: httpx.AsyncClient | None = None) -> AgentAdapter:
    """The adapter that speaks to this kind of agent (an injected client is used, not closed)."""
    if isinstance(config, HttpAgentConfig):
        from agents.http_agent import HttpAgent

        return HttpAgent(config, client)
    if isinstance(config, OpenAIAgentConfig):
        from agents.openai_loop import OpenAIToolLoopAgent

        return OpenAIToolLoopAgent(config, client)
    if isinstance(config, PythonAgentConfig):
        from agents.python_agent import PythonAgent

        return PythonAgent(config)
    raise TypeError(f"no adapter for {type(config).__name__}")
