"""The long-session test: plant a constraint, pad the session with N filler turns, probe; for N in a ramp.

It builds a suite of one case per scenario and N (builder), replays it through the regression
flow (flows.long_session), and reports the retention curve and where it drops (report).
"""

from trailcheck.long_session.builder import (
    ScenarioError,
    build_sessions,
    parse_ramp,
    select_scenarios,
    session_case,
)
from trailcheck.long_session.fillers import FILLERS, filler_turns
from trailcheck.long_session.report import curve_lines, render_markdown, retention_report, verdict_line

__all__ = [
    "FILLERS",
    "ScenarioError",
    "build_sessions",
    "curve_lines",
    "filler_turns",
    "parse_ramp",
    "render_markdown",
    "retention_report",
    "select_scenarios",
    "session_case",
    "verdict_line",
]
