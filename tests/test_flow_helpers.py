"""What the flows delegate: run settings, the live reading window, names of sources and judges."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from trailcheck.checks.judge import JudgeConfig
from trailcheck.tasks.live_run import judge_label, reading_window, source_key
from trailcheck.tasks.run_setup import RunSettings, auto_shard_size, plan_parallelism

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"), [("trials", 0), ("concurrency", 0), ("shard_size", 0), ("alpha", 1.0), ("alpha", 0)]
)
def test_run_settings_refuse_what_no_run_can_use(field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        RunSettings.model_validate({field: value})


def test_run_settings_defaults_make_a_run() -> None:
    settings = RunSettings()
    assert settings.trials == 1 and 0 < settings.alpha < 1
    assert plan_parallelism(3, settings.concurrency, settings.max_parallel_shards) == (3, 2)


@pytest.mark.parametrize(
    ("cases", "parallel", "size"),
    [(11, 4, 50), (1_000, 4, 63), (10_000, 4, 625), (10_000, 16, 157), (200, 1, 50)],
)
def test_large_suites_get_few_large_shards(cases: int, parallel: int, size: int) -> None:
    """About 4 shards per parallel slot, never fewer than 50 cases a shard; every case in one shard."""
    assert auto_shard_size(cases, parallel) == size
    shards = -(-cases // size)
    assert shards <= 4 * parallel or size == 50


def test_the_reading_window_is_the_lookback_before_until_or_now() -> None:
    until = NOW - timedelta(hours=1)
    assert reading_window(None, until, 900) == (until - timedelta(seconds=900), until)
    assert reading_window(None, None, 60, now=NOW) == (NOW - timedelta(seconds=60), NOW)  # slices tile
    since = NOW - timedelta(days=1)
    assert reading_window(since, None, 60, now=NOW) == (since, None)  # a given start wins
    assert reading_window(None, None, None, now=NOW) == (None, None)


def test_sources_and_judges_are_named_shortly() -> None:
    assert source_key("sql+traces@postgresql://u:p@h/db") == "traces"
    assert source_key("https://logs.example/api/v2/traces?cursor=1") == "traces"
    assert source_key(".trailcheck/traces/production.jsonl.gz") == "production"
    judge = JudgeConfig(base_url="http://127.0.0.1:9/v1", model="judge-1")
    assert judge_label(judge, True) == "judge-1 at http://127.0.0.1:9/v1"
    assert judge_label(None, True) == "not configured"
    assert judge_label(None, False) == "disabled"
