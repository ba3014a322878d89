"""Build the adapter for an agent config: the one place that knows which class serves which `kind`."""

import httpx

from agents.base import AgentAdapter
from agents.config import AgentConfig, HttpAgentConfig, OpenAIAgentConfig, PythonAgentConfig
from agents.http_agent import HttpAgent
from agents.openai_loop import OpenAIToolLoopAgent
from agents.python_agent import PythonAgent


def build_adapter(config: AgentConfig, client: httpx.AsyncClient | None = None) -> AgentAdapter:
    """The adapter that speaks to this kind of agent.

    An injected `client` is used and left open (the caller owns it); without one the adapter
    opens its own and closes it in `aclose`. A Python agent needs no client. Raises
    AgentConfigError when the config cannot work (a missing API key, an unimportable target).
    """
    if isinstance(config, HttpAgentConfig):
        return HttpAgent(config, client)
    if isinstance(config, OpenAIAgentConfig):
        return OpenAIToolLoopAgent(config, client)
    if isinstance(config, PythonAgentConfig):
        return PythonAgent(config)
    raise TypeError(f"no adapter for {type(config).__name__}")
