"""Agent targets as read from an agent YAML file: HTTP endpoint, OpenAI-compatible tool loop, Python.

The `kind` field picks the adapter (``http``, ``command``, ``openai`` or ``python``). Every model forbids
unknown fields, so a typo in the file is an error rather than a silent default. Secrets are
never in these files: the OpenAI loop names the environment variable that holds its API key.
"""

import os
import shlex
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

from trailcheck.agents._template import check_placeholders
from trailcheck.loading import problems, safe_yaml
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


class _HttpFields(BaseModel):
    """What trailcheck needs to talk to an agent over HTTP: shared by `http` and `command` agents."""

    model_config = _FORBID

    headers: dict[str, str] = Field(
        default_factory=dict, description="Sent as is (placeholders allowed); no secrets here."
    )
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
        description='JSON body with placeholders such as "{{message}}", "{{session_id}}", '
        '"{{context.customer_id}}", "{{case.id}}", "{{history}}", typed as "{{context.limit:int}}"; '
        "default: trailcheck's protocol (agents/protocol.py).",
    )
    response: ResponseMapping = Field(default_factory=ResponseMapping)
    gateway: GatewaySettings | None = Field(
        default=None, description="Start a tool gateway in front of the agent's tools for the run."
    )

    @field_validator("request_template", "headers")
    @classmethod
    def _known_placeholders(cls, template: JsonValue) -> JsonValue:
        check_placeholders(template)
        return template


class HttpAgentConfig(_HttpFields):
    """An agent behind an HTTP JSON endpoint, one POST per user turn."""

    kind: Literal["http"] = "http"
    url: str = Field(pattern=_URL, description="May hold placeholders, e.g. /threads/{{session_id}}/runs.")
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

    @field_validator("url")
    @classmethod
    def _url_placeholders(cls, url: str) -> str:
        check_placeholders(url)
        return url


class CommandAgentConfig(_HttpFields):
    """An HTTP agent trailcheck starts itself for the run, and stops after it (agents/lifecycle.py).

    The process gets its port and where its tools are in the environment
    (``TRAILCHECK_AGENT_PORT``, ``TRAILCHECK_TOOLS_URL``, ``TRAILCHECK_SESSION_HEADER``) and in
    ``{port}``/``{tools_url}``/``{python}`` inside `command` and `env` values.
    """

    kind: Literal["command"] = "command"
    command: list[str] = Field(min_length=1, description="argv, or one string split like a shell does.")
    cwd: str | None = Field(default=None, description="Working folder (relative: to the agent file's).")
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment, e.g. TOOLS_URL: '{tools_url}'."
    )
    port: int = Field(default=0, ge=0, le=65535, description="0: a free port.")
    path: str = Field(
        default="/chat", pattern=r"^/", description="Where turns are POSTed (placeholders allowed)."
    )
    health: str = Field(
        default="/health", description="Path (or URL) polled with GET until it answers 2xx: the agent is up."
    )
    startup_timeout_s: float = Field(default=30.0, gt=0)
    output_bytes: int = Field(
        default=64 * 1024,
        gt=0,
        description="The last this many bytes of its stdout/stderr are kept in the run.",
    )

    @field_validator("command", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _path_placeholders(cls, path: str) -> str:
        check_placeholders(path)
        return path


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
    """A Python callable ``(AgentRequest) -> AgentReply | dict``, sync or async.

    For a run, trailcheck serves it in a process of its own (agents/python_host.py, started like a
    `command` agent), so it can sit behind the tool gateway and run in another interpreter.
    """

    model_config = _FORBID

    kind: Literal["python"] = "python"
    target: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="package.module:function")
    python: str | None = Field(
        default=None,
        description="The interpreter to run it with, e.g. .venv/bin/python (default: trailcheck's).",
    )
    path: list[str] = Field(
        default_factory=list, description="Folders put on its import path (relative: to the agent file's)."
    )
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment for its process.")
    gateway: GatewaySettings | None = Field(
        default=None,
        description="Start a tool gateway in front of its tools (it reads TRAILCHECK_TOOLS_URL).",
    )
    timeout_s: TrialTimeout = DEFAULT_TIMEOUT_S
    retries: Retries = 0
    startup_timeout_s: float = Field(default=30.0, gt=0)


AgentConfig = Annotated[
    HttpAgentConfig | CommandAgentConfig | OpenAIAgentConfig | PythonAgentConfig, Field(discriminator="kind")
]
KINDS = ("http", "command", "openai", "python")
_AGENT_CONFIG: TypeAdapter[AgentConfig] = TypeAdapter(AgentConfig)


def load_agent_config(path: str | Path) -> AgentConfig:
    """Read an agent YAML file; AgentConfigError names the file, the field path and the problem."""
    path = Path(path)
    try:
        text = safe_yaml.read_text(path, MAX_AGENT_FILE_BYTES)
        data = safe_yaml.load_yaml(text)
    except FileNotFoundError:
        raise AgentConfigError(f"{path}: agent file not found") from None
    except safe_yaml.YamlRefused as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise AgentConfigError(f"{where}: agent file refused: {exc.problem}; fix: {exc.fix}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AgentConfigError(f"{path}: cannot read agent file: {exc}") from None
    if not isinstance(data, dict):
        raise AgentConfigError(f"{path}: an agent file is a mapping with `kind` ({', '.join(KINDS)})")
    try:
        config = _AGENT_CONFIG.validate_python(data)
    except ValidationError as exc:
        raise AgentConfigError("\n".join(_describe(path, error, text) for error in exc.errors())) from None
    return _relative_to(config, path.resolve().parent)


def _relative_to(config: AgentConfig, folder: Path) -> AgentConfig:
    """Folders in the file are relative to the file, so the run works from any working directory."""
    if isinstance(config, CommandAgentConfig):
        return config.model_copy(update={"cwd": str(folder / (config.cwd or "."))})
    if isinstance(config, PythonAgentConfig):
        python = config.python
        if python and ("/" in python or python.startswith(".")):
            python = str(folder / python)
        return config.model_copy(update={"path": [str(folder / p) for p in config.path], "python": python})
    return config


def _describe(path: Path, error: ErrorDetails, text: str) -> str:
    """One problem as ``file:line: field.path: message`` (the union's tag is not part of the path)."""
    loc = list(error["loc"])
    if loc and loc[0] in KINDS:
        loc = loc[1:]
    field = ".".join(map(str, loc)) or ("kind" if error["type"].startswith("union_tag") else "agent")
    line = problems.line_of(problems.compose(text), tuple(loc))
    return f"{path}{f':{line}' if line else ''}: {field}: {error['msg']}"
