"""Aggregate traces and scored samples into `HealthWindow`s (per task type and time window).

Traffic is added trace by trace as the stream is read (`add_trace`), the scored uniform sample
afterwards (`add_scored`). Each window keeps its costs (8 bytes a trace) for the p95; everything
else is a counter.
"""

import math
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime

from trailcheck.analysis.sampling import task_type_of
from trailcheck.models import Trace
from trailcheck.models.health import HealthWindow
from trailcheck.models.live import ScoredTrace
from trailcheck.models.openai_messages import tool_message_failed


def window_start(ts: datetime, window_s: int) -> datetime:
    """The start of the window holding `ts` (windows are aligned on the Unix epoch, in UTC)."""
    seconds = int(ts.timestamp())
    return datetime.fromtimestamp(seconds - seconds % window_s, UTC)


def p95(values: array) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


@dataclass
class _Window:
    traces: int = 0
    completed_known: int = 0
    completed: int = 0
    escalated: int = 0
    costs: array = field(default_factory=lambda: array("d"))
    tool_calls: int = 0
    tool_errors: int = 0
    sampled: int = 0
    quality: list[float] = field(default_factory=list)
    failures: int = 0
    check_failures: dict[str, int] = field(default_factory=dict)


class HealthAccumulator:
    """Windows of `window_s` seconds; a trace without a timestamp counts in the window of `default_time`."""

    def __init__(self, window_s: int = 3600, default_time: datetime | None = None) -> None:
        self.window_s = window_s
        self.default_time = default_time or datetime.now(UTC)
        self._windows: dict[tuple[str, datetime], _Window] = {}

    def _window(self, task_type: str, ts: datetime | None) -> _Window:
        ts = ts or self.default_time
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        key = (task_type, window_start(ts, self.window_s))
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window()
        return window

    def add_trace(self, trace: Trace) -> None:
        """Count one trace of the traffic."""
        w = self._window(task_type_of(trace), trace.timestamp)
        w.traces += 1
        if trace.completed is not None:
            w.completed_known += 1
            w.completed += trace.completed
        w.escalated += bool(trace.escalated)
        if trace.cost is not None:
            w.costs.append(trace.cost)
        for message in trace.messages:
            role = message.get("role")
            if role == "assistant":
                w.tool_calls += len(message.get("tool_calls") or ())
            elif role == "tool" and tool_message_failed(message):
                w.tool_errors += 1

    def add_scored(self, scored: ScoredTrace) -> None:
        """Count one scored trace of the uniform sample (others do not stand for the traffic)."""
        if not scored.uniform:
            return
        w = self._window(scored.task_type, scored.timestamp)
        w.sampled += 1
        if scored.quality is not None:
            w.quality.append(scored.quality)
        w.failures += scored.counts_as_failure
        for verdict in scored.verdicts:
            if verdict.status == "failed":
                w.check_failures[verdict.check] = w.check_failures.get(verdict.check, 0) + 1

    def windows(self) -> list[HealthWindow]:
        """Every window, ordered by start then task type."""
        out = []
        for (task_type, start), w in sorted(self._windows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            out.append(
                HealthWindow(
                    task_type=task_type,
                    window_start=start,
                    window_s=self.window_s,
                    traces=w.traces,
                    completed_known=w.completed_known,
                    completed=w.completed,
                    escalated=w.escalated,
                    cost_n=len(w.costs),
                    cost_mean=sum(w.costs) / len(w.costs) if w.costs else None,
                    cost_p95=p95(w.costs) if w.costs else None,
                    tool_calls=w.tool_calls,
                    tool_errors=w.tool_errors,
                    sampled=w.sampled,
                    quality_n=len(w.quality),
                    quality_mean=sum(w.quality) / len(w.quality) if w.quality else None,
                    failures=w.failures,
                    check_failures=dict(sorted(w.check_failures.items())),
                )
            )
        return out


def _weighted(a: float | None, n_a: int, b: float | None, n_b: int) -> float | None:
    n = n_a + n_b
    return ((a or 0.0) * n_a + (b or 0.0) * n_b) / n if n else None


def merge_windows(a: HealthWindow, b: HealthWindow) -> HealthWindow:
    """Two counts of the same task type (and usually the same window) as one: counts add, means weigh.

    The p95 of the union is not known from the two p95s; the larger one is kept (never understates).
    """
    p95s = [p for p in (a.cost_p95, b.cost_p95) if p is not None]
    failures_by_check = dict(a.check_failures)
    for check, n in b.check_failures.items():
        failures_by_check[check] = failures_by_check.get(check, 0) + n
    return a.model_copy(
        update={
            "traces": a.traces + b.traces,
            "completed_known": a.completed_known + b.completed_known,
            "completed": a.completed + b.completed,
            "escalated": a.escalated + b.escalated,
            "cost_n": a.cost_n + b.cost_n,
            "cost_mean": _weighted(a.cost_mean, a.cost_n, b.cost_mean, b.cost_n),
            "cost_p95": max(p95s) if p95s else None,
            "tool_calls": a.tool_calls + b.tool_calls,
            "tool_errors": a.tool_errors + b.tool_errors,
            "sampled": a.sampled + b.sampled,
            "quality_n": a.quality_n + b.quality_n,
            "quality_mean": _weighted(a.quality_mean, a.quality_n, b.quality_mean, b.quality_n),
            "failures": a.failures + b.failures,
            "check_failures": failures_by_check,
        }
    )


def merge_increments(stored: list[HealthWindow], new: list[HealthWindow]) -> list[HealthWindow]:
    """The new windows with the stored counts of the same (task type, start, length) added in.

    A run every 15 minutes over hour-long windows adds its slice to the hour instead of replacing it.
    """

    def key(w: HealthWindow) -> tuple[str, datetime, int]:
        start = w.window_start if w.window_start.tzinfo else w.window_start.replace(tzinfo=UTC)
        return (w.task_type, start, w.window_s)

    by_key = {key(w): w for w in stored}
    return [merge_windows(by_key[key(w)], w) if key(w) in by_key else w for w in new]
