"""Live sampling left alone: slices of a window add up, a missing or empty source is nothing to sample."""

from datetime import timedelta
from pathlib import Path

import pytest

from tests.live_data import T0, jsonl, trace_dict
from trailcheck import db
from trailcheck.analysis.verdict import NothingSampledRun
from trailcheck.db import live as live_db
from trailcheck.flows.live_sampling import live_sampling
from trailcheck.models.sampling import SamplingPolicy

pytestmark = pytest.mark.usefixtures("prefect_harness")
HOUR = T0.replace(minute=0, second=0, microsecond=0)


def test_fifteen_minute_slices_add_up_to_the_hour(tmp_path: Path) -> None:
    source = tmp_path / "traces.jsonl"
    # 40 traces in the first quarter of the hour (4 with a failed tool call), 20 in the second.
    traces = [trace_dict(i, at=HOUR + timedelta(seconds=10 * i), tool_error=i < 4) for i in range(40)]
    traces += [trace_dict(100 + i, at=HOUR + timedelta(minutes=15, seconds=10 * i)) for i in range(20)]
    source.write_text(jsonl(traces))
    url = f"sqlite:///{tmp_path / 'r.db'}"
    common = {
        "source": str(source),
        "database_url": url,
        "sampling": SamplingPolicy(rate=1.0),
        "notify_to": [],
    }
    first = live_sampling(since=HOUR, until=HOUR + timedelta(minutes=15), **common)
    second = live_sampling(since=HOUR + timedelta(minutes=15), until=HOUR + timedelta(minutes=30), **common)
    assert (first.read, second.read) == (40, 20)
    [stored] = live_db.load_windows(db.get_engine(url), 3600)
    assert stored.window_start == HOUR and stored.traces == 60  # not 20: the second slice added to the hour
    assert stored.tool_calls == 60 and stored.tool_errors == 4 and stored.sampled == 60
    assert [w.traces for w in second.windows] == [60]  # the run reports the hour so far


def test_a_missing_or_empty_source_is_nothing_to_sample_or_a_failure_when_asked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    missing = tmp_path / "not-yet" / "production.jsonl"
    state = live_sampling(source=str(missing), database_url=url, return_state=True)
    assert state.is_completed()
    assert state.message == (
        f"Live sampling: nothing to sample: {missing}: no such trace file "
        "(not written yet? point `source` at your trace store)"
    )
    assert state.result().read == 0 and state.result().windows == []
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    failed = live_sampling(source=str(empty), database_url=url, on_empty_source="fail", return_state=True)
    assert failed.is_failed() and failed.message.endswith("empty.jsonl holds no traces")
    assert isinstance(failed.result(raise_on_failure=False), NothingSampledRun)
