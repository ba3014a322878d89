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
