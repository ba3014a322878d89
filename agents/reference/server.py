"""Run the reference agent and its tools on 127.0.0.1, each a real HTTP server."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from trailcheck.agents.reference.agent_app import DEFAULT_TOOL_TIMEOUT_S, create_agent_app
from trailcheck.agents.reference.behaviour import behaviour_of
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.serving import serve_in_thread


@dataclass(frozen=True)
class ReferenceAgent:
    """Where a running reference agent listens."""

    version: str
    agent_url: str  # the /chat endpoint
    tools_url: str  # what the agent calls its tools at (the tools service, or a gateway in front of it)


@contextmanager
def serve_reference(
    version: str = "v1",
    tools_base_url: str | None = None,
    tool_timeout_s: float = DEFAULT_TOOL_TIMEOUT_S,
    port: int = 0,
) -> Iterator[ReferenceAgent]:
    """Serve the tools (unless `tools_base_url` points elsewhere) and the agent until the block exits.

    The agent listens on `port` (0: a free one); the tools always on a free port.
    """
    behaviour_of(version)  # fail before starting anything
    if tools_base_url is not None:
        agent_app = create_agent_app(version, tools_base_url, tool_timeout_s)
        with serve_in_thread(agent_app, port=port) as agent_base:
            yield ReferenceAgent(version, f"{agent_base}/chat", tools_base_url)
        return
    with (
        serve_in_thread(create_tools_app()) as tools_base,
        serve_in_thread(create_agent_app(version, tools_base, tool_timeout_s), port=port) as agent_base,
    ):
        yield ReferenceAgent(version, f"{agent_base}/chat", tools_base)
