"""How trailcheck talks to the agent under test: configs, adapters and their error tree.

`reference/` is the bundled reference agent; `targets` resolves the CLI's `--agent` option.
"""

from agents.base import AgentAdapter
from agents.config import (
    AgentConfig,
    AgentConfigError,
    HttpAgentConfig,
    OpenAIAgentConfig,
    PythonAgentConfig,
    ResponseMapping,
    ToolEndpoint,
    load_agent_config,
)
from agents.errors import (
    AgentError,
    AgentProtocolError,
    AgentReplyError,
    AgentStatusError,
    AgentTimeout,
    AgentTransportError,
)
from agents.factory import build_adapter
from agents.protocol import AgentReply, AgentRequest

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
    "HttpAgentConfig",
    "OpenAIAgentConfig",
    "PythonAgentConfig",
    "ResponseMapping",
    "ToolEndpoint",
    "build_adapter",
    "load_agent_config",
]
