"""Anomalies in production health: each window judged against the windows before it.

Two tests, both robust to a few bad windows in the history:

- **Cost per task** (mean cost of the window): robust z-score against the median and MAD of the
  history's window means. Alarm when ``(mean - median) / (1.4826 * MAD) > cost_z`` (upward only:
  cheaper is not an incident). The spread is floored at `min_cost_spread` of the median, so a
  history of near-identical windows does not flag a cent's change. For normal noise the one-sided
  false-alarm rate of z > 4.5 is 3.4e-6 per window; estimating the median and MAD from 8-48
  windows widens it, which is why the limit is higher than the textbook 3.
- **Rates** (completion, escalation, tool errors, failures of the sample, each check's failures):
  an exact binomial test of the window's k out of n against the history's pooled rate (smoothed
  with half a success, so a rate never seen before is not "infinitely" surprising), one-sided in the
  direction that is bad. Alarm when p < `alpha` (default 1e-4: the false-alarm rate per metric and
  window under the binomial model) and the rate moved by at least `min_rate_delta`.

A window is judged only with at least `min_traces` traces (`min_sampled` for sampled metrics) and
`min_history` earlier windows of the same task type that met the same bar.
"""

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from trailcheck.models.health import Anomaly, HealthWindow

MAD_TO_SIGMA = 1.4826


class AnomalyPolicy(BaseModel):
    """The detector's settings; the defaults are what the closing numbers were measured with."""

    model_config = ConfigDict(extra="forbid")

    min_traces: int = Field(default=30, ge=1)
    min_sampled: int = Field(default=20, ge=1)
    min_history: int = Field(default=8, ge=2)
    history_windows: int = Field(default=48, ge=2)
    cost_z: float = Field(default=4.5, gt=0)
    min_cost_spread: float = Field(
        default=0.02, ge=0, description="Floor of the spread, share of the median."
    )
    alpha: float = Field(default=1e-4, gt=0, lt=1)
    min_rate_delta: float = Field(default=0.02, ge=0)


@dataclass(frozen=True)
class RateMetric:
    """A rate of a window: k successes of n trials, and which direction is bad."""

    name: str
    counts: Callable[[HealthWindow], tuple[int, int]]
    bad_when: str  # "greater" or "less"
    sampled: bool = False


RATES = (
    RateMetric("completion_rate", lambda w: (w.completed, w.completed_known), "less"),
    RateMetric("escalation_rate", lambda w: (w.escalated, w.traces), "greater"),
    RateMetric("tool_error_rate", lambda w: (w.tool_errors, w.tool_calls), "greater"),
    RateMetric("failure_rate", lambda w: (w.failures, w.sampled), "greater", sampled=True),
)


def _cost_anomaly(window: HealthWindow, history: list[HealthWindow], policy: AnomalyPolicy) -> Anomaly | None:
    means = [h.cost_mean for h in history if h.cost_mean is not None and h.cost_n >= policy.min_traces]
    if window.cost_mean is None or window.cost_n < policy.min_traces or len(means) < policy.min_history:
        return None
    median = statistics.median(means)
    spread = max(
        MAD_TO_SIGMA * statistics.median(abs(m - median) for m in means), policy.min_cost_spread * median
    )
    if spread <= 0:
        return None
    z = (window.cost_mean - median) / spread
    if z <= policy.cost_z:
        return None
    return Anomaly(
        task_type=window.task_type,
        window_start=window.window_start,
        metric="cost_mean",
        value=window.cost_mean,
        baseline=median,
        detail=(
            f"mean cost ${window.cost_mean:.5f} vs median ${median:.5f} of {len(means)} windows: "
            f"robust z {z:.1f} > {policy.cost_z:g} (n={window.cost_n})"
        ),
    )


def _rate_anomaly(
    window: HealthWindow, history: list[HealthWindow], metric: RateMetric, policy: AnomalyPolicy
) -> Anomaly | None:
    bar = policy.min_sampled if metric.sampled else policy.min_traces
    k, n = metric.counts(window)
    if n < bar:
        return None
    past = [metric.counts(h) for h in history if metric.counts(h)[1] >= bar]
    if len(past) < policy.min_history:
        return None
    past_k, past_n = sum(c[0] for c in past), sum(c[1] for c in past)
    baseline = (past_k + 0.5) / (past_n + 1)
    rate = k / n
    if abs(rate - baseline) < policy.min_rate_delta:
        return None
    from scipy.stats import binomtest  # imported here: scipy costs a second at start-up

    p = binomtest(k, n, baseline, alternative=metric.bad_when).pvalue
    if p >= policy.alpha:
        return None
    return Anomaly(
        task_type=window.task_type,
        window_start=window.window_start,
        metric=metric.name,
        value=rate,
        baseline=past_k / past_n if past_n else 0.0,
        detail=(
            f"{k}/{n} = {rate:.1%} vs {past_k}/{past_n} = {past_k / max(past_n, 1):.1%} "
            f"over {len(past)} windows: exact binomial p={p:.2g} < {policy.alpha:g}"
        ),
    )


def _check_metrics(windows: Iterable[HealthWindow]) -> list[RateMetric]:
    names = sorted({name for w in windows for name in w.check_failures})
    return [
        RateMetric(f"check_failure_rate:{name}", _check_failures(name), "greater", True) for name in names
    ]


def _check_failures(name: str) -> Callable[[HealthWindow], tuple[int, int]]:
    def counts(window: HealthWindow) -> tuple[int, int]:
        return window.check_failures.get(name, 0), window.sampled

    return counts


def detect_anomalies(
    windows: Iterable[HealthWindow], history: Iterable[HealthWindow] = (), policy: AnomalyPolicy | None = None
) -> list[Anomaly]:
    """Anomalies of `windows`, each judged against the earlier windows of its task type.

    `history` holds earlier windows (from the results database); `windows` are judged in time
    order and each becomes history for the next.
    """
    policy = policy or AnomalyPolicy()
    judged = list(windows)
    judged_keys = {(w.task_type, w.window_start) for w in judged}
    by_type: dict[str, list[HealthWindow]] = defaultdict(list)
    for w in history:
        if (w.task_type, w.window_start) not in judged_keys:
            by_type[w.task_type].append(w)
    for past in by_type.values():
        past.sort(key=lambda w: w.window_start)
    metrics = [*RATES, *_check_metrics([*judged, *(w for ws in by_type.values() for w in ws)])]
    found: list[Anomaly] = []
    for window in sorted(judged, key=lambda w: (w.window_start, w.task_type)):
        past = [h for h in by_type[window.task_type] if h.window_start < window.window_start][
            -policy.history_windows :
        ]
        cost = _cost_anomaly(window, past, policy)
        if cost:
            found.append(cost)
        for metric in metrics:
            anomaly = _rate_anomaly(window, past, metric, policy)
            if anomaly:
                found.append(anomaly)
        by_type[window.task_type].append(window)
    return found
