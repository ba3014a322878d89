"""Resolve the `--agent` option (or the flow's `agent` parameter) into an agent config.

Accepted forms:

- ``reference:v1`` (or v2, ...): the bundled reference agent, started on 127.0.0.1 for the run;
- ``http://host:port/chat``: an HTTP agent speaking trailcheck's default protocol;
- ``python:package.module:function``: a Python callable;
- ``path/to/agent.yaml``: a full agent config (HTTP with mappings, a command trailcheck starts,
  OpenAI tool loop, Python).

Agents trailcheck starts (``kind: command``, and ``python:`` targets, served by agents/python_host.py)
run as processes of their own for the run (agents/lifecycle.py) and are replayed over HTTP.
"""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from trailcheck.agents.config import (
    AgentConfig,
    CommandAgentConfig,
    GatewaySettings,
    HttpAgentConfig,
    OpenAIAgentConfig,
    PythonAgentConfig,
    load_agent_config,
)
from trailcheck.agents.gateway import RunningGateway, serve_gateway
from trailcheck.agents.lifecycle import (
    HOST_FILE,
    ProcessSpec,
    RunningAgentProcess,
    python_env,
    run_agent_process,
)
from trailcheck.agents.reference import VERSIONS, serve_reference
from trailcheck.agents.reference.routes import REFERENCE_ROUTES
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.serving import serve_in_thread


class AgentSpecError(ValueError):
    """The agent option names nothing trailcheck can run."""


@dataclass(frozen=True)
class ResolvedAgent:
    """An agent ready to be replayed against, and the version label runs are recorded under.

    `gateway`: the tool gateway trailcheck runs for it (its counters, e.g. calls without a session
    header); `process`: the agent's own process when trailcheck started it (its printed output).
    """

    config: AgentConfig
    version: str
    gateway: RunningGateway | None = None
    process: RunningAgentProcess | None = None


def default_version_label(spec: str) -> str:
    """The version label used when none is given: `reference-v1`, the URL, the file stem."""
    if spec.startswith("reference:"):
        return "reference-" + spec.split(":", 1)[1]
    if spec.endswith((".yaml", ".yml")):
        return Path(spec).stem
    return spec


@contextmanager
def resolve_agent(
    spec: str,
    version: str | None = None,
    gateway: GatewaySettings | None = None,
    needs_gateway: bool = False,
    inventory: LoadedInventory | None = None,
) -> Iterator[ResolvedAgent]:
    """Yield the agent named by `spec`, running it (and a tool gateway) for the duration of the block.

    `inventory` (the run's tools.yaml) is handed to the gateway: its routes name the calls, and the
    schema_break fault breaks the tools' contracts.

    A gateway is started when `gateway` is given, when an agent file asks for one, or for the
    reference agent when `needs_gateway` (the suite injects faults or serves fixtures). An agent
    that cannot sit behind a gateway while the suite needs one is refused: its faults would
    silently never happen.
    """
    label = version or default_version_label(spec)
    if spec.startswith("reference:"):
        name = spec.split(":", 1)[1]
        if name not in VERSIONS:
            raise AgentSpecError(f"unknown reference agent version {name!r}; known: {', '.join(VERSIONS)}")
        if gateway is None and not needs_gateway:
            with serve_reference(name) as reference:
                config = HttpAgentConfig(url=reference.agent_url, tools_url=reference.tools_url)
                yield ResolvedAgent(config, label)
            return
        with (
            serve_in_thread(create_tools_app()) as tools,
            serve_gateway(tools, REFERENCE_ROUTES, inventory=inventory) as running,
            serve_reference(name, tools_base_url=running.url) as reference,
        ):
            # State is read from the tools themselves, not through the gateway (which would record it).
            config = HttpAgentConfig(url=reference.agent_url, gateway_url=running.url, tools_url=tools)
            yield ResolvedAgent(config, label, running)
        return
    chosen: AgentConfig = _config_of(spec)
    if isinstance(chosen, OpenAIAgentConfig) and inventory is not None and chosen.inventory is None:
        # The tool loop is its own gateway: it breaks the contracts itself (in the shard's process).
        chosen = chosen.model_copy(update={"inventory": str(inventory.path.resolve())})
    settings = gateway or getattr(chosen, "gateway", None)
    if needs_gateway and settings is None:
        refuse_without_gateway(spec, chosen)
    with ExitStack() as stack:
        front: RunningGateway | None = None
        if settings is not None and not isinstance(chosen, OpenAIAgentConfig):
            front = stack.enter_context(
                serve_gateway(
                    settings.upstream, settings.routes, settings.port, settings.session_header, inventory
                )
            )
        process = None
        if isinstance(chosen, CommandAgentConfig | PythonAgentConfig):
            header = settings.session_header if settings else GatewaySettings().session_header
            spec_ = process_spec(chosen, front.url if front else None, header)
            process = stack.enter_context(run_agent_process(spec_))
            chosen = as_http(chosen, process)
            if settings is not None and settings.upstream:
                # State probes read the tool service itself, not through the gateway.
                chosen = chosen.model_copy(update={"tools_url": settings.upstream})
        if front is not None and isinstance(chosen, HttpAgentConfig):
            chosen = chosen.model_copy(update={"gateway_url": front.url})
        yield ResolvedAgent(chosen, label, front, process)


def process_spec(
    config: CommandAgentConfig | PythonAgentConfig, tools_url: str | None, session_header: str
) -> ProcessSpec:
    """How to start the agent's process: its command, or the Python host serving the callable."""
    if isinstance(config, CommandAgentConfig):
        return ProcessSpec(
            argv=config.command,
            health=config.health,
            cwd=config.cwd,
            env=config.env,
            port=config.port,
            tools_url=tools_url,
            session_header=session_header,
            startup_timeout_s=config.startup_timeout_s,
            output_bytes=config.output_bytes,
            name=f"agent command {config.command[0]!r}",
        )
    return ProcessSpec(
        argv=[config.python or "{python}", str(HOST_FILE), config.target, "--port", "{port}"],
        env=python_env(config.path, config.env),
        tools_url=tools_url,
        session_header=session_header,
        startup_timeout_s=config.startup_timeout_s,
        name=f"python agent {config.target}",
    )


def as_http(config: CommandAgentConfig | PythonAgentConfig, process: RunningAgentProcess) -> HttpAgentConfig:
    """The HTTP agent a started process is, for the adapters (which only ever see `http`)."""
    if isinstance(config, PythonAgentConfig):
        return HttpAgentConfig(url=process.url("/chat"), timeout_s=config.timeout_s, retries=config.retries)
    fields = config.model_dump(include=set(HttpAgentConfig.model_fields) - {"kind", "url", "gateway"})
    return HttpAgentConfig(url=process.url(config.path), **fields)


def refuse_without_gateway(
    spec: str, config: AgentConfig | None = None, gateway: GatewaySettings | None = None
) -> None:
    """AgentSpecError when the agent cannot get the suite's faults or fixtures (they would never happen)."""
    if spec.startswith("reference:") or gateway is not None:
        return
    config = config or _config_of(spec)
    if isinstance(config, OpenAIAgentConfig):
        return
    if isinstance(config, HttpAgentConfig) and config.gateway_url:
        return
    if isinstance(config, HttpAgentConfig | CommandAgentConfig | PythonAgentConfig) and config.gateway:
        return
    raise AgentSpecError(
        f"the suite injects tool faults or serves fixtures, but agent {spec!r} has no tool gateway: "
        "give --gateway UPSTREAM_URL (and point the agent's tools at --gateway-port), or a `gateway:` "
        "section in the agent file"
    )


def _config_of(spec: str) -> AgentConfig:
    if spec.startswith(("http://", "https://")):
        return HttpAgentConfig(url=spec)
    if spec.startswith("python:"):
        return PythonAgentConfig(target=spec.removeprefix("python:"))
    if spec.endswith((".yaml", ".yml")):
        return load_agent_config(spec)
    raise AgentSpecError(
        f"cannot tell what agent {spec!r} is; use reference:v1, an http(s):// URL, "
        "python:module:function, or an agent YAML file"
    )


def gateway_settings(value: str | None, port: int = 0) -> GatewaySettings | None:
    """The `--gateway` option: ``on`` (the reference agent's own tools) or the tools' base URL."""
    if value is None:
        return None
    if value == "on":
        return GatewaySettings(port=port)
    if value.startswith(("http://", "https://")):
        return GatewaySettings(upstream=value, port=port)
    raise AgentSpecError(f"--gateway takes `on` or the tools' base URL (http://host:port), not {value!r}")
