"""Anomaly detection on the reference trace stream: the known cost drift and silent-error rise are found
in the window they start, nothing is flagged before them, and a stable stream raises no alarm."""

from datetime import UTC, datetime, timedelta

import pytest

from trailcheck.agents.reference.tracegen import StreamConfig, trace_lines
from trailcheck.analysis.health import HealthAccumulator, window_start
from trailcheck.checks.anomaly import AnomalyPolicy, detect_anomalies
from trailcheck.models import Trace
from trailcheck.models.health import HealthWindow

START = datetime(2026, 11, 1, tzinfo=UTC)


def _windows(config: StreamConfig) -> list[HealthWindow]:
    health = HealthAccumulator(3600)
    for line in trace_lines(config):
        health.add_trace(Trace.model_validate_json(line))
    return health.windows()


@pytest.mark.parametrize("offset", [timedelta(hours=20), timedelta(hours=20, minutes=30)])
def test_the_cost_drift_is_flagged_in_the_window_it_starts_and_not_before(offset: timedelta) -> None:
    drift_at = START + offset
    config = StreamConfig(start=START, hours=30, traces_per_hour=300, seed=11, cost_drift_at=drift_at)
    found = detect_anomalies(_windows(config))
    cost = [a for a in found if a.metric == "cost_mean"]
    assert cost, "the drift was not flagged"
    assert min(a.window_start for a in found) == window_start(drift_at, 3600)  # no alarm before the drift
    start = window_start(drift_at, 3600)
    assert [a for a in cost if a.window_start == start], "not flagged in the window it starts"
    # Every busy task type is flagged once a whole window has drifted (at once when it starts on the hour).
    by_next = {
        a.task_type for a in cost if a.window_start <= window_start(drift_at + timedelta(hours=1), 3600)
    }
    assert by_next >= {"order_status", "refund", "account"}
    assert all(a.value > a.baseline for a in cost)


def test_the_rise_in_silent_errors_shows_as_refund_tool_errors_from_its_window() -> None:
    rise_at = START + timedelta(hours=18)
    config = StreamConfig(start=START, hours=24, traces_per_hour=300, seed=5, silent_errors_from=rise_at)
    found = detect_anomalies(_windows(config))
    assert found
    assert min(a.window_start for a in found) == rise_at
    assert {(a.task_type, a.metric) for a in found if a.window_start == rise_at} == {
        ("refund", "tool_error_rate")
    }
    assert "exact binomial p=" in found[0].detail


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_stable_stream_raises_no_alarm(seed: int) -> None:
    config = StreamConfig(start=START, hours=72, traces_per_hour=300, seed=seed)
    windows = _windows(config)
    assert len(windows) == 72 * 4
    assert detect_anomalies(windows) == []


def _window(hour: int, traces: int, errors: int, calls: int | None = None) -> HealthWindow:
    return HealthWindow(
        task_type="refund",
        window_start=START + timedelta(hours=hour),
        window_s=3600,
        traces=traces,
        tool_calls=calls if calls is not None else traces,
        tool_errors=errors,
        cost_n=traces,
        cost_mean=0.001,
    )


def test_a_rate_change_is_judged_by_an_exact_test_not_a_raw_threshold() -> None:
    history = [_window(h, 400, 8) for h in range(10)]  # 2% tool errors
    # 2 of 30 is 6.7%, three times the usual rate, but p = 0.12: chance, no alarm.
    assert detect_anomalies([_window(10, 30, 2)], history) == []
    found = detect_anomalies([_window(10, 30, 9)], history)
    assert [a.metric for a in found] == ["tool_error_rate"]
    assert found[0].baseline == pytest.approx(0.02)


def test_too_small_a_window_or_too_short_a_history_is_not_judged() -> None:
    history = [_window(h, 400, 8) for h in range(10)]
    assert detect_anomalies([_window(10, 29, 29)], history) == []  # below min_traces=30
    assert detect_anomalies([_window(10, 400, 200)], history[:7]) == []  # 7 < min_history=8
    policy = AnomalyPolicy(min_history=3)
    assert detect_anomalies([_window(10, 400, 200)], history[:7], policy)


def test_a_stored_window_judged_again_is_not_its_own_history() -> None:
    history = [_window(h, 400, 8) for h in range(10)] + [_window(10, 400, 200)]
    assert [a.metric for a in detect_anomalies([_window(10, 400, 200)], history)] == ["tool_error_rate"]
