"""Build the adapter for an agent config: the one place that knows which class serves which `kind`."""

import httpx

from trailcheck.agents.base import AgentAdapter
from trailcheck.agents.config import (
    AgentConfig,
    AgentConfigError,
    CommandAgentConfig,
    HttpAgentConfig,
    OpenAIAgentConfig,
    PythonAgentConfig,
)
from trailcheck.agents.http_agent import HttpAgent
from trailcheck.agents.openai_loop import OpenAIToolLoopAgent
from trailcheck.agents.python_agent import PythonAgent
from trailcheck.agents.retry import RetryingAdapter


def build_adapter(config: AgentConfig, client: httpx.AsyncClient | None = None) -> AgentAdapter:
    """The adapter that speaks to this kind of agent.

    An injected `client` is used and left open (the caller owns it); without one the adapter
    opens its own and closes it in `aclose`. A Python agent needs no client. With `retries`, a
    trial the agent could not be reached for is tried again (agents/retry.py). Raises
    AgentConfigError when the config cannot work (a missing API key, an unimportable target).
    """
    adapter: AgentAdapter
    if isinstance(config, HttpAgentConfig):
        adapter = HttpAgent(config, client)
    elif isinstance(config, OpenAIAgentConfig):
        adapter = OpenAIToolLoopAgent(config, client)
    elif isinstance(config, PythonAgentConfig):
        adapter = PythonAgent(config)
    elif isinstance(config, CommandAgentConfig):
        # Its process must run first: resolve_agent starts it and yields the HTTP agent it is.
        raise AgentConfigError(
            "a command agent is replayed once started: use the config resolve_agent yields"
        )
    else:
        raise TypeError(f"no adapter for {type(config).__name__}")
    return RetryingAdapter(adapter, config.retries) if config.retries else adapter
