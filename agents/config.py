"""Agent targets as read from an agent YAML file: HTTP endpoint, OpenAI-compatible tool loop, Python.

The `kind` field picks the adapter (``http``, ``openai`` or ``python``). Every model forbids
unknown fields, so a typo in the file is an error rather than a silent default. Secrets are
never in these files: the OpenAI loop names the environment variable that holds its API key.
"""

import os
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from trailcheck.agents._template import PLACEHOLDERS, template_placeholders
from trailcheck.loading import safe_yaml
from trailcheck.models import ToolRoute

_FORBID = ConfigDict(extra="forbid")
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024
MAX_AGENT_FILE_BYTES = 1024 * 1024
_URL = r"^https?://"

DottedPath = Annotated[str, Field(pattern=r"^[^.\s]+(\.[^.\s]+)*$", description="e.g. output.text")]
TrialTimeout = Annotated[float, Field(gt=0, description="Seconds per trial, unless the case sets its own.")]
Retries = Annotated[
    int,
    Field(
        ge=0, le=10, description="Tries again a trial whose agent could not be reached (transport errors)."
    ),
]


def _empty_object_schema() -> dict[str, JsonValue]:
    return {"type": "object", "properties": {}}


class AgentConfigError(ValueError):
    """An agent config cannot be used; the message names the file, the field and the problem."""


class ResponseMapping(BaseModel):
    """Where the parts of a turn's answer are in the agent's JSON reply, as dotted paths.

    The defaults read trailcheck's own protocol (agents/protocol.py). `reply` must be present
    in every reply; the others are read when present (set one to null to ignore that field).
    Tool calls are mapped item by item like `ReportedToolCall` and recorded as self-reported.
    """

    model_config = _FORBID

    reply: DottedPath = "reply"
    tool_calls: DottedPath | None = "tool_calls"
    escalated: DottedPath | None = "escalated"
    input_tokens: DottedPath | None = "usage.input_tokens"
    output_tokens: DottedPath | None = "usage.output_tokens"
    cost_usd: DottedPath | None = "cost_usd"


class GatewaySettings(BaseModel):
    """A tool gateway trailcheck starts in front of the agent's tools for a run.

    The agent must send its tool calls to ``http://127.0.0.1:{port}`` (set that in the agent's
    own config) and should send the ``X-Session-Id`` header with the session id trailcheck gives
    it on every turn; without it, replay one conversation at a time (``--concurrency 1``).
    """

    model_config = _FORBID

    upstream: str | None = Field(
        default=None, pattern=_URL, description="The tools' base URL; none: answer from fixtures only."
    )
    port: int = Field(
        default=0, ge=0, le=65535, description="0: a free port (only for agents trailcheck starts)."
    )
    routes: list[ToolRoute] = Field(default_factory=list, description="Method + path template of each tool.")
    session_header: str = "X-Session-Id"


class HttpAgentConfig(BaseModel):
    """An agent behind an HTTP JSON endpoint, one POST per user turn."""

    model_config = _FORBID

    kind: Literal["http"] = "http"
    url: str = Field(pattern=_URL)
    headers: dict[str, str] = Field(default_factory=dict, description="Sent as is; no secrets here.")
    headers_env: dict[str, str] = Field(
        default_factory=dict,
        description="Header name -> environment variable holding its value (tokens stay out of the file), "
        'e.g. {Authorization: AGENT_AUTH} with AGENT_AUTH="Bearer ...".',
    )
    timeout_s: TrialTimeout = DEFAULT_TIMEOUT_S
    retries: Retries = 0
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    request_template: JsonValue | None = Field(
        default=None,
        description='JSON body with placeholders "{{message}}", "{{session_id}}", "{{context}}", '
        '"{{history}}", "{{case_id}}"; default: trailcheck\'s protocol (agents/protocol.py).',
    )
    response: ResponseMapping = Field(default_factory=ResponseMapping)
    gateway: GatewaySettings | None = Field(
        default=None, description="Start a tool gateway in front of the agent's tools for the run."
    )
    gateway_url: str | None = Field(
        default=None,
        pattern=_URL,
        description="A running gateway's base URL: its observed tool calls replace the agent's own report. "
        "Set by trailcheck when it starts one.",
    )
    tools_url: str | None = Field(
        default=None,
        pattern=_URL,
        description="Base URL of the agent's tool service: `{tools_url}` in a suite's environment probes "
        "and reset hook. Set by trailcheck for the reference agent.",
    )

    @field_validator("request_template")
    @classmethod
    def _known_placeholders(cls, template: JsonValue | None) -> JsonValue | None:
        unknown = template_placeholders(template) - PLACEHOLDERS
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; known: {sorted(PLACEHOLDERS)}")
        return template


def missing_env(config: "AgentConfig") -> list[str]:
    """The environment variables the config names (API key, header values) that are not set."""
    names = list(getattr(config, "headers_env", {}).values())
    api_key_env = getattr(config, "api_key_env", None)
    names += [api_key_env] if api_key_env else []
    return [name for name in names if not os.environ.get(name)]


class ToolEndpoint(BaseModel):
    """A tool the OpenAI tool loop offers the model and calls over HTTP when the model asks."""

    model_config = _FORBID

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, JsonValue] = Field(
        default_factory=_empty_object_schema, description="JSON Schema of the args."
    )
    url: str = Field(pattern=_URL)
    method: Literal["POST", "GET"] = Field(default="POST", description="POST sends JSON, GET query params.")
    timeout_s: float = Field(default=10.0, gt=0)


class OpenAIAgentConfig(BaseModel):
    """trailcheck drives an OpenAI-compatible chat-completions model and executes its tool calls."""

    model_config = _FORBID

    kind: Literal["openai"] = "openai"
    base_url: str = Field(pattern=_URL, description="Up to /v1; /chat/completions is appended.")
    model: str = Field(min_length=1)
    api_key_env: str | None = Field(default=None, description="The environment variable with the key.")
    system_prompt: str = ""
    tools: list[ToolEndpoint] = Field(default_factory=list)
    max_tool_rounds: int = Field(default=8, ge=1)
    inventory: str | None = Field(
        default=None,
        description="Inventory (tools.yaml, from the working directory) whose contracts schema_break breaks.",
    )
    temperature: float | None = 0.0
    timeout_s: TrialTimeout = DEFAULT_TIMEOUT_S
    retries: Retries = 0
    max_response_bytes: int = Field(default=DEFAULT_MAX_RESPONSE_BYTES, gt=0)
    price_per_1k_input: float = Field(default=0.0, ge=0)
    price_per_1k_output: float = Field(default=0.0, ge=0)
    escalation_tools: list[str] = Field(
        default_factory=list, description="Calling one of these tools means handing over to a human."
    )

    @field_validator("tools")
    @classmethod
    def _unique_tool_names(cls, tools: list[ToolEndpoint]) -> list[ToolEndpoint]:
        names = [t.name for t in tools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"tool names must be unique; repeated: {duplicates}")
        return tools

    @field_validator("escalation_tools")
    @classmethod
    def _escalation_tools_exist(cls, escalation_tools: list[str], info: ValidationInfo) -> list[str]:
        # A misspelt escalation tool would silently never mark a trajectory escalated.
        names = [t.name for t in info.data.get("tools", [])]
        unknown = sorted(set(escalation_tools) - set(names))
        if "tools" in info.data and unknown:
            raise ValueError(f"{unknown} are not among the tools {names}")
        return escalation_tools


class PythonAgentConfig(BaseModel):
    """A Python callable ``(AgentRequest) -> AgentReply | dict``, sync or async."""

    model_config = _FORBID

    kind: Literal["python"] = "python"
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="package.module:function")
    timeout_s: TrialTimeout = DEFAULT_TIMEOUT_S
    retries: Retries = 0


AgentConfig = Annotated[HttpAgentConfig | OpenAIAgentConfig | PythonAgentConfig, Field(discriminator="kind")]
_AGENT_CONFIG: TypeAdapter[AgentConfig] = TypeAdapter(AgentConfig)


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read an agent YAML file; AgentConfigError names the file, the field path and the problem."""
    path = Path(path)
    try:
        data = safe_yaml.load_yaml_file(path, MAX_AGENT_FILE_BYTES)
    except FileNotFoundError:
        raise AgentConfigError(f"{path}: agent file not found") from None
    except safe_yaml.YamlRefused as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise AgentConfigError(f"{where}: agent file refused: {exc.problem}; fix: {exc.fix}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AgentConfigError(f"{path}: cannot read agent file: {exc}") from None
    if not isinstance(data, dict):
        raise AgentConfigError(f"{path}: an agent file is a mapping with `kind` (http, openai or python)")
    try:
        return _AGENT_CONFIG.validate_python(data)
    except ValidationError as exc:
        raise AgentConfigError("\n".join(_describe(path, error) for error in exc.errors())) from None


def _describe(path: Path, error: ErrorDetails) -> str:
    """One problem as ``file: field.path: message`` (the union's tag is not part of the path)."""
    loc = list(error["loc"])
    if loc and loc[0] in ("http", "openai", "python"):
        loc = loc[1:]
    field = ".".join(map(str, loc)) or ("kind" if error["type"].startswith("union_tag") else "agent")
    return f"{path}: {field}: {error['msg']}"
