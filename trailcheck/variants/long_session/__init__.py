"""The long-session test: plant a constraint, pad the session with N filler turns, probe; for N in a ramp.

It builds a suite of one case per scenario and N (builder), replays it through the regression
flow (trailcheck.flows.long_session); trailcheck.render.markdown_retention reports the
retention curve and where it drops.
"""

from trailcheck.variants.long_session.builder import (
    ScenarioError,
    build_sessions,
    parse_ramp,
    select_scenarios,
    session_case,
)
from trailcheck.variants.long_session.fillers import FILLERS, filler_turns

__all__ = [
    "FILLERS",
    "ScenarioError",
    "build_sessions",
    "filler_turns",
    "parse_ramp",
    "select_scenarios",
    "session_case",
]
