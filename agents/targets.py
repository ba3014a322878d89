"""Resolve the `--agent` option (or the flow's `agent` parameter) into an agent config.

Accepted forms:

- ``reference:v1`` (or v2, ...): the bundled reference agent, started on 127.0.0.1 for the run;
- ``http://host:port/chat``: an HTTP agent speaking trailcheck's default protocol;
- ``python:package.module:function``: a Python callable;
- ``path/to/agent.yaml``: a full agent config (HTTP with mappings, OpenAI tool loop, Python).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from trailcheck.agents.config import (
    AgentConfig,
    GatewaySettings,
    HttpAgentConfig,
    OpenAIAgentConfig,
    PythonAgentConfig,
    load_agent_config,
)
from trailcheck.agents.gateway import serve_gateway
from trailcheck.agents.reference import VERSIONS, serve_reference
from trailcheck.agents.reference.routes import REFERENCE_ROUTES
from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.serving import serve_in_thread


class AgentSpecError(ValueError):
    """The agent option names nothing trailcheck can run."""


@dataclass(frozen=True)
class ResolvedAgent:
    """An agent ready to be replayed against, and the version label runs are recorded under."""

    config: AgentConfig
    version: str


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
            yield ResolvedAgent(config, label)
        return
    config = _config_of(spec)
    if isinstance(config, OpenAIAgentConfig) and inventory is not None and config.inventory is None:
        # The tool loop is its own gateway: it breaks the contracts itself (in the shard's process).
        config = config.model_copy(update={"inventory": str(inventory.path.resolve())})
    if isinstance(config, HttpAgentConfig) and (gateway or config.gateway):
        settings = gateway or config.gateway
        assert settings is not None
        with serve_gateway(
            settings.upstream, settings.routes, settings.port, settings.session_header, inventory
        ) as running:
            yield ResolvedAgent(config.model_copy(update={"gateway_url": running.url}), label)
        return
    if needs_gateway:
        refuse_without_gateway(spec, config)
    yield ResolvedAgent(config, label)


def refuse_without_gateway(
    spec: str, config: AgentConfig | None = None, gateway: GatewaySettings | None = None
) -> None:
    """AgentSpecError when the agent cannot get the suite's faults or fixtures (they would never happen)."""
    if spec.startswith("reference:") or gateway is not None:
        return
    config = config or _config_of(spec)
    if isinstance(config, OpenAIAgentConfig):
        return
    if isinstance(config, HttpAgentConfig) and (config.gateway or config.gateway_url):
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
