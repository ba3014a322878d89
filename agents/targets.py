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

from agents.config import AgentConfig, HttpAgentConfig, PythonAgentConfig, load_agent_config
from agents.reference import VERSIONS, serve_reference


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
def resolve_agent(spec: str, version: str | None = None) -> Iterator[ResolvedAgent]:
    """Yield the agent named by `spec`, running it for the duration of the block if it is bundled."""
    label = version or default_version_label(spec)
    if spec.startswith("reference:"):
        name = spec.split(":", 1)[1]
        if name not in VERSIONS:
            raise AgentSpecError(f"unknown reference agent version {name!r}; known: {', '.join(VERSIONS)}")
        with serve_reference(name) as reference:
            yield ResolvedAgent(HttpAgentConfig(url=reference.agent_url), label)
        return
    if spec.startswith(("http://", "https://")):
        yield ResolvedAgent(HttpAgentConfig(url=spec), label)
    elif spec.startswith("python:"):
        yield ResolvedAgent(PythonAgentConfig(target=spec.removeprefix("python:")), label)
    elif spec.endswith((".yaml", ".yml")):
        yield ResolvedAgent(load_agent_config(spec), label)
    else:
        raise AgentSpecError(
            f"cannot tell what agent {spec!r} is; use reference:v1, an http(s):// URL, "
            "python:module:function, or an agent YAML file"
        )
