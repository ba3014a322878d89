"""The HTML report of a run: one self-contained file, charts drawn by plotly.js inlined (no network).

Sections, each a chart or a note saying how to fill it:

    pass-rate    pass@1 of every run of the suite over time, one line per agent version
    cost         cost per case over time, one line per agent version
    cases        per case, the baseline's pass rate beside the run's ("baseline 1/1 -> now 0/3")
    fault-matrix the newest `trailcheck faults` run as a tool x fault heatmap of pass rates
    retention    the newest `trailcheck long-session` run: pass rate by filler turns
    health       live health KPIs per task type over the last days, anomalies marked

Text from agents and traffic (case ids, versions, task types) is escaped: plotly reads a few HTML
tags in labels, and the page itself is HTML.
"""

import html
from collections import defaultdict
from typing import TYPE_CHECKING

from trailcheck.analysis.report_series import (
    HistoryPoint,
    fault_cells,
    history_points,
    is_fault_matrix,
    is_long_session,
    per_case,
    retention_points,
)
from trailcheck.analysis.verdict import run_verdict, verdict_line
from trailcheck.models.report import ReportData

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

CHARTS = ("pass-rate", "cost", "cases", "fault-matrix", "retention", "health")
HEALTH_METRICS = (
    ("completion_rate", "completion rate"),
    ("escalation_rate", "escalation rate"),
    ("tool_error_rate", "tool error rate"),
    ("failure_rate", "failure rate (sample)"),
    ("cost_mean", "cost per task (USD)"),
)
_VERDICT_COLOUR = {"pass": "#1a7f37", "fail": "#cf222e", "regressed": "#cf222e"}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _rate(passed: int, trials: int) -> float | None:
    return passed / trials if trials else None


def _by_version(points: list[HistoryPoint]) -> dict[str, list[HistoryPoint]]:
    """The runs of each agent version, in the order given: one line per version on the charts."""
    by_version: defaultdict[str, list[HistoryPoint]] = defaultdict(list)
    for point in points:
        by_version[point.agent_version].append(point)
    return by_version


def _pass_rate(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go

    points = history_points(data.history)
    if not points:
        return "No runs of this suite yet: `trailcheck run SUITE --agent AGENT`."
    fig = go.Figure()
    for version, pts in _by_version(points).items():
        fig.add_trace(
            go.Scatter(
                x=[p.started_at for p in pts],
                y=[100 * p.pass_at_1 for p in pts],
                mode="lines+markers",
                name=_e(version),
                marker={"symbol": ["circle" if p.ok else "x" for p in pts], "size": 10},
                text=[f"run {_e(p.run_id)}: {'PASS' if p.ok else 'FAIL'}" for p in pts],
            )
        )
    fig.update_layout(yaxis={"title": "pass@1 (%)", "range": [0, 105]}, xaxis={"title": "run started"})
    return fig


def _cost(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go

    points = [p for p in history_points(data.history) if p.cost_per_case_usd is not None]
    if not points:
        return "No run of this suite reported a cost (the agent's trajectories carry no cost)."
    fig = go.Figure()
    for version, pts in _by_version(points).items():
        fig.add_trace(
            go.Scatter(
                x=[p.started_at for p in pts],
                y=[p.cost_per_case_usd for p in pts],
                mode="lines+markers",
                name=_e(version),
            )
        )
    fig.update_layout(
        yaxis={"title": "cost per case (USD)", "rangemode": "tozero"}, xaxis={"title": "run started"}
    )
    return fig


def _cases(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go

    if data.run is None or not data.run.cases:
        return "No cases in this run."
    shifts = per_case(data.run, data.baseline)
    ids = [_e(s.case_id) for s in shifts]
    labels = [
        f"baseline {s.baseline_passes}/{s.baseline_trials} -> now {s.passes}/{s.trials}"
        if s.baseline_trials
        else f"now {s.passes}/{s.trials} (no baseline)"
        for s in shifts
    ]
    fig = go.Figure()
    if data.baseline is not None:
        fig.add_trace(
            go.Bar(
                y=ids,
                x=[100 * (_rate(s.baseline_passes, s.baseline_trials) or 0) for s in shifts],
                orientation="h",
                name=f"baseline {_e(data.baseline.agent_version)}",
                marker_color="#8c959f",
                hovertext=labels,
            )
        )
    fig.add_trace(
        go.Bar(
            y=ids,
            x=[100 * (_rate(s.passes, s.trials) or 0) for s in shifts],
            orientation="h",
            name=f"now {_e(data.run.agent_version)}",
            marker_color=["#1a7f37" if s.passes == s.trials else "#cf222e" for s in shifts],
            hovertext=labels,
            text=labels,
            textposition="outside",
        )
    )
    fig.update_layout(
        barmode="group",
        height=max(320, 44 * len(shifts) + 120),
        xaxis={"title": "pass rate (%)", "range": [0, 160]},
        yaxis={"autorange": "reversed"},
    )
    return fig


def _fault_matrix(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go

    if data.fault_run is None or not is_fault_matrix(data.fault_run):
        return f"No fault-matrix run of {_e(data.suite)} yet: `trailcheck faults SUITE --agent AGENT`."
    cells = fault_cells(data.fault_run)
    tools = list(dict.fromkeys(c.tool for c in cells))
    kinds = list(dict.fromkeys(c.kind for c in cells))
    grid = {(c.tool, c.kind): c for c in cells}
    z = [
        [_rate(grid[t, k].passed, grid[t, k].trials) if (t, k) in grid else None for k in kinds]
        for t in tools
    ]
    text = [
        [f"{grid[t, k].passed}/{grid[t, k].trials}" if (t, k) in grid else "" for k in kinds] for t in tools
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[_e(k) for k in kinds],
            y=[_e(t) for t in tools],
            text=text,
            texttemplate="%{text}",
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            colorbar={"title": "pass rate"},
        )
    )
    fig.update_layout(
        title=f"{_e(data.fault_run.agent_version)}, run {_e(data.fault_run.run_id)}",
        height=max(300, 60 * len(tools) + 160),
    )
    return fig


def _retention(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go

    if data.retention_run is None or not is_long_session(data.retention_run):
        return f"No long-session run of {_e(data.suite)} yet: `trailcheck long-session SUITE --agent AGENT`."
    points = retention_points(data.retention_run)
    fig = go.Figure(
        go.Scatter(
            x=[p.fillers for p in points],
            y=[100 * (_rate(p.passed, p.trials) or 0) for p in points],
            mode="lines+markers",
            text=[f"{p.passed}/{p.trials}" for p in points],
            name=_e(data.retention_run.agent_version),
        )
    )
    fig.update_layout(
        xaxis={"title": "filler turns between the constraint and the probe"},
        yaxis={"title": "pass rate (%)", "range": [0, 105]},
    )
    return fig


def _health(data: ReportData) -> "Figure | str":
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    if not data.windows:
        return "No live health windows yet: the live-sampling deployment (or `trailcheck live`) fills them."
    fig = make_subplots(
        rows=len(HEALTH_METRICS), cols=1, shared_xaxes=True, subplot_titles=[t for _, t in HEALTH_METRICS]
    )
    task_types = sorted({w.task_type for w in data.windows})
    palette = ["#0969da", "#8250df", "#bf8700", "#1a7f37", "#cf222e", "#57606a"]
    for row, (metric, _) in enumerate(HEALTH_METRICS, start=1):
        for i, task_type in enumerate(task_types):
            windows = [w for w in data.windows if w.task_type == task_type]
            fig.add_trace(
                go.Scatter(
                    x=[w.window_start.isoformat() for w in windows],
                    y=[getattr(w, metric) for w in windows],
                    mode="lines+markers",
                    name=_e(task_type),
                    legendgroup=_e(task_type),
                    showlegend=row == 1,
                    line={"color": palette[i % len(palette)]},
                ),
                row=row,
                col=1,
            )
        found = [a for a in data.anomalies if a.metric == metric]
        if found:
            fig.add_trace(
                go.Scatter(
                    x=[a.window_start.isoformat() for a in found],
                    y=[a.value for a in found],
                    mode="markers",
                    name="anomaly",
                    legendgroup="anomaly",
                    showlegend=not any(t.name == "anomaly" for t in fig.data),
                    marker={"symbol": "x", "size": 14, "color": "#cf222e"},
                    hovertext=[f"{_e(a.task_type)}: {_e(a.detail)}" for a in found],
                ),
                row=row,
                col=1,
            )
    fig.update_layout(height=240 * len(HEALTH_METRICS))
    return fig


_TITLES = {
    "pass-rate": ("Pass rate by version over time", _pass_rate),
    "cost": ("Cost per case by version over time", _cost),
    "cases": ("Per case: baseline vs now", _cases),
    "fault-matrix": ("Fault matrix (pass rate per tool and fault)", _fault_matrix),
    "retention": ("Retention curve (long sessions)", _retention),
    "health": ("Live health KPIs per task type (anomalies marked x)", _health),
}

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1100px;color:#1f2328}
h1{font-size:1.5em;margin-bottom:4px} h2{font-size:1.15em;margin-top:32px}
.verdict{display:inline-block;padding:2px 10px;border-radius:6px;color:#fff;font-weight:600}
.kpis{display:flex;gap:16px;flex-wrap:wrap;margin:16px 0} .kpi{border:1px solid #d0d7de;border-radius:6px;
padding:8px 14px} .kpi b{display:block;font-size:1.3em} .no-data{color:#57606a;font-style:italic}
.line{font-family:ui-monospace,monospace;background:#f6f8fa;padding:8px;border-radius:6px}
"""


def _header(data: ReportData) -> str:
    run = data.run
    if run is None:
        return f"<h1>trailcheck report: {_e(data.suite)}</h1>"
    verdict = run_verdict(run).value
    kpis = [
        ("pass@1", f"{run.pass_at_1:.1%}"),
        *((f"pass^{k}", f"{v:.1%}") for k, v in sorted(run.pass_hat_k.items()) if k > 1),
        ("cases", str(len(run.cases))),
        ("trials", str(run.trials)),
        ("cost per case", "n/a" if run.cost_per_case_usd is None else f"${run.cost_per_case_usd:.5f}"),
        ("regressions", str(len(run.comparison.regressions)) if run.comparison else "no baseline"),
    ]
    tiles = "".join(f'<div class="kpi">{_e(name)}<b>{_e(value)}</b></div>' for name, value in kpis)
    return (
        f'<h1>{_e(run.suite)} on {_e(run.agent_version)} <span class="verdict" data-verdict="{verdict}" '
        f'style="background:{_VERDICT_COLOUR[verdict]}">{verdict.upper()}</span></h1>'
        f"<p>run <code>{_e(run.run_id)}</code>, started {_e(run.started_at.isoformat(timespec='seconds'))}"
        f"{f', baseline {_e(data.baseline.agent_version)}' if data.baseline else ''}</p>"
        f'<p class="line">{_e(verdict_line(run))}</p><div class="kpis">{tiles}</div>'
    )


def render_html_report(data: ReportData) -> str:
    """The whole page: header with the verdict and KPIs, then each chart (or its note), plotly.js inline."""
    from plotly.offline import get_plotlyjs

    sections = []
    for name in CHARTS:
        title, draw = _TITLES[name]
        drawn = draw(data)
        if isinstance(drawn, str):
            body = f'<p class="no-data">{drawn}</p>'
        else:
            drawn.update_layout(margin={"l": 60, "r": 20, "t": 50, "b": 50}, template="plotly_white")
            body = drawn.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{name}")
        sections.append(f'<section class="chart" data-chart="{name}"><h2>{title}</h2>{body}</section>')
    generated = data.generated_at.isoformat(timespec="seconds")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>trailcheck: {_e(data.suite)}</title><style>{_STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script></head><body>'
        f"{_header(data)}{''.join(sections)}"
        f'<p class="no-data">generated {_e(generated)} by trailcheck</p></body></html>'
    )
