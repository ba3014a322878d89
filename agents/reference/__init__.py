"""The bundled reference support-desk agent: deterministic, real HTTP tools, versions with flaws."""

from trailcheck.agents.reference.behaviour import VERSIONS, Behaviour
from trailcheck.agents.reference.server import ReferenceAgent, serve_reference

__all__ = ["VERSIONS", "Behaviour", "ReferenceAgent", "serve_reference"]
