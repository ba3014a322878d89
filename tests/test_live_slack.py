"""Live sampling announces itself in Slack through the same poster as regression runs.

Real Prefect (the session harness), the real registry checks, SQLite, and the real slack-sdk
client against the local Slack Web API. Production text (task types, trace ids) is escaped.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.slack_server import FakeSlack, serve_slack
from trailcheck.agents.reference.tracegen import StreamConfig, write_stream
from trailcheck.flows.live_sampling import live_sampling
from trailcheck.models import Anomaly, FailureCategory, LiveRunResult, ScoredTrace, Verdict, VerdictStatus
from trailcheck.models.sampling import SamplingPolicy
from trailcheck.render.slack_live import render_live_message
from trailcheck.slack import API_URL_ENV, CHANNEL_ENV, TOKEN_ENV

TOKEN = "xoxb-live-test-secret"
START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with serve_slack(token=TOKEN, channels={"#agent-ops": "C0AGENTOPS"}) as server:
        yield server


@pytest.mark.usefixtures("prefect_harness")
def test_a_live_run_posts_its_anomalies_and_failing_traces(
    slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(CHANNEL_ENV, "#agent-ops")
    monkeypatch.setenv(API_URL_ENV, slack.base_url)
    stream = tmp_path / "prod.jsonl"
    silent_at = START + timedelta(hours=20)
    write_stream(stream, StreamConfig(start=START, hours=24, traces_per_hour=200, seed=5,
                                      silent_errors_from=silent_at))  # fmt: skip
    result = live_sampling(
        source=str(stream),
        sampling=SamplingPolicy(rate=0.5, seed=1, min_per_task_type=5),
        database_url=f"sqlite:///{tmp_path / 'results.db'}",
    )
    assert result.failing and any(s.failure_category is FailureCategory.SILENT_ERROR for s in result.failing)
    [post] = [p for p in slack.posts if "thread_ts" not in p]
    assert post["channel"] == "C0AGENTOPS"
    text = str(post["blocks"])
    assert "Live sampling" in post["text"] and f"{result.read:,} traces" in text
    for anomaly in result.anomalies[:3]:
        assert anomaly.metric in text
    replies = [p for p in slack.posts if "thread_ts" in p]
    assert replies and result.failing[0].trace_id in str(replies[0])
    assert TOKEN not in str(slack.posts)


def test_production_text_is_escaped_in_the_message() -> None:
    hostile = "refund <!channel> <http://evil.example|click> & @here"
    result = LiveRunResult(
        run_id="r1",
        source="prod",
        started_at=START,
        read=10,
        sampled=10,
        anomalies=[
            Anomaly(
                task_type=hostile,
                window_start=START,
                metric="cost_mean",
                value=2.0,
                baseline=1.0,
                detail="median/MAD limit 1.5, n=40",
            )
        ],
        failing=[
            ScoredTrace(
                trace_id="<!here>",
                task_type=hostile,
                reasons=[],
                uniform=True,
                failed=True,
                verdicts=[
                    Verdict(check="silent_error", status=VerdictStatus.FAILED, reason="said <@U123> done")
                ],
            )
        ],
    )
    message = render_live_message(result)
    rendered = str(message.model_dump())
    for raw in ("<!channel>", "<!here>", "<http://evil.example|click>", "<@U123>"):
        assert raw not in rendered
    assert "&lt;!channel&gt;" in rendered and "ATTENTION" in message.text


@pytest.mark.usefixtures("prefect_harness")
def test_lookback_reads_only_the_last_slice_of_the_stream(tmp_path: Path) -> None:
    stream = tmp_path / "prod.jsonl"
    write_stream(stream, StreamConfig(start=START, hours=4, traces_per_hour=50, seed=2))
    result = live_sampling(
        source=str(stream),
        until=START + timedelta(hours=4),
        lookback_s=3600,
        notify_to=[],
        database_url=f"sqlite:///{tmp_path / 'results.db'}",
    )
    assert result.read == 50 and result.out_of_range == 150  # 4 hours of 50 traces, the last one read
