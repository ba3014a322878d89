"""How trailcheck talks to the agent under test: configs, adapters and their error tree.

`reference/` is the bundled reference agent; `targets` resolves the CLI's `--agent` option;
`lifecycle` starts and stops the agents trailcheck runs as processes (`kind: command`, `python:`).
"""

from trailcheck.agents.base import AgentAdapter
from trailcheck.agents.config import (
    AgentConfig,
    AgentConfigError,
    CommandAgentConfig,
    HttpAgentConfig,
    OpenAIAgentConfig,
    PythonAgentConfig,
    ResponseMapping,
    ToolEndpoint,
    load_agent_config,
)
from trailcheck.agents.errors import (
    AgentError,
    AgentProtocolError,
    AgentReplyError,
    AgentStatusError,
    AgentTimeout,
    AgentTransportError,
)
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.protocol import AgentReply, AgentRequest

__all__ = [
    "AgentAdapter",
    "AgentConfig",
    "AgentConfigError",
    "AgentError",
    "AgentProtocolError",
    "AgentReply",
    "AgentReplyError",
    "AgentRequest",
    "AgentStatusError",
    "AgentTimeout",
    "AgentTransportError",
    "CommandAgentConfig",
    "HttpAgentConfig",
    "OpenAIAgentConfig",
    "PythonAgentConfig",
    "ResponseMapping",
    "ToolEndpoint",
    "build_adapter",
    "load_agent_config",
]
