"""Agent targets as read from an agent YAML file: HTTP endpoint, OpenAI-compatible tool loop, Python.

The `kind` field picks the adapter. Secrets are never in these files: the OpenAI loop names
the environment variable that holds its API key.
"""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

_FORBID = ConfigDict(extra="forbid")
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024


class AgentConfigError(ValueError):
    """An agent file cannot be used; the message names the file, the field and the problem."""


class ResponseMapping(BaseModel):
    """Dotted paths into the agent's JSON reply (``output.text``, ``choices.0.message.content``)."""

    model_config = _FORBID

    reply: str = "reply"
    tool_calls: str | None = "tool_calls"
    escalated: str | None = "escalated"
    input_tokens: str | None = "usage.input_tokens"
    output_tokens: str | None = "usage.output_tokens"
    cost_usd: str | None = "cost_usd"


class HttpAgentConfig(BaseModel):
    """An agent behind an HTTP JSON endpoint, one POST per user turn."""

    model_config = _FORBID

    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    request_template: JsonValue = Field(
        default=None,
        description='JSON body with placeholders "{{message}}", "{{session_id}}", "{{context}}", '
        '"{{history}}", "{{case_id}}"; default: trailcheck\'s protocol (agents/protocol.py).',
    )
    response: ResponseMapping = Field(default_factory=ResponseMapping)


class ToolEndpoint(BaseModel):
    """A tool the OpenAI tool loop offers the model and calls over HTTP when the model asks."""

    model_config = _FORBID

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, JsonValue] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    url: str = Field(pattern=r"^https?://")
    method: Literal["POST", "GET"] = "POST"
    timeout_s: float = Field(default=10.0, gt=0)


class OpenAIAgentConfig(BaseModel):
    """trailcheck drives an OpenAI-compatible chat-completions model and executes its tool calls."""

    model_config = _FORBID

    kind: Literal["openai"] = "openai"
    base_url: str = Field(pattern=r"^https?://")
    model: str
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable with the key."
    )
    system_prompt: str = ""
    tools: list[ToolEndpoint] = Field(default_factory=list)
    max_tool_rounds: int = Field(default=8, ge=1)
    temperature: float | None = 0.0
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    price_per_1k_input: float = Field(default=0.0, ge=0)
    price_per_1k_output: float = Field(default=0.0, ge=0)
    escalation_tools: list[str] = Field(default_factory=list)


class PythonAgentConfig(BaseModel):
    """A Python callable ``(AgentRequest) -> AgentReply | dict``, sync or async."""

    model_config = _FORBID

    kind: Literal["python"] = "python"
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="package.module:function")
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)


AgentConfig = Annotated[HttpAgentConfig | OpenAIAgentConfig | PythonAgentConfig, Field(discriminator="kind")]


class _AgentFile(BaseModel):
    agent: AgentConfig


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read an agent YAML file; AgentConfigError names the file, field and problem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AgentConfigError(f"{path}: agent file not found") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AgentConfigError(f"{path}: cannot read agent file: {exc}") from None
    if not isinstance(data, dict):
        raise AgentConfigError(f"{path}: an agent file is a mapping with `kind` (http, openai or python)")
    try:
        return _AgentFile.model_validate({"agent": data}).agent
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = list(error["loc"][1:])
            if loc and loc[0] in ("http", "openai", "python"):  # the union's tag, not a field
                loc = loc[1:]
            problems.append(f"{path}: {'.'.join(map(str, loc)) or 'kind'}: {error['msg']}")
        raise AgentConfigError("\n".join(problems)) from None
