"""The regression flow announces itself: Slack message, link and progress artifacts, tags and labels.

Real Prefect (the session harness), the real reference agent over HTTP, SQLite, and the real
slack-sdk client talking to the local Slack API. A Slack failure must leave the run's verdict
and its records exactly as they are without Slack.
"""

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from tests.fakes.slack_server import FakeSlack, serve_slack
from tests.prefect_artifacts import run_artifacts
from tests.regression_runs import regression
from trailcheck import db
from trailcheck.slack import API_URL_ENV, CHANNEL_ENV, TOKEN_ENV
from trailcheck.tasks.run_setup import version_label

SUITE = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"
TOKEN = "xoxb-flow-test-secret"

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with serve_slack(token=TOKEN, channels={"#agent-ci": "C0AGENTCI"}) as server:
        yield server


@pytest.fixture
def slack_env(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    slack.reset()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(CHANNEL_ENV, "#agent-ci")
    monkeypatch.setenv(API_URL_ENV, slack.base_url)
    return slack


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('notify') / 'results.db'}"




def _flow_run(flow_run_id: str):
    async def read():
        async with get_client() as client:
            return await client.read_flow_run(UUID(flow_run_id))

    return asyncio.run(read())


def test_version_label() -> None:
    assert version_label("http://a/chat", None, "gpt-x", "p7") == "gpt-x@p7"
    assert version_label("http://a/chat", "mine", "gpt-x", "p7") == "mine"
    assert version_label("reference:v1") == "reference-v1"
    assert version_label("http://a/chat", None, None, "p7") == "prompt-p7"


def test_run_posts_to_slack_and_links_the_message(slack_env: FakeSlack, sqlite_url: str) -> None:
    run = regression(
        suite=str(SUITE),
        agent="reference:v2",
        model="support-model",
        prompt_version="p8",
        trigger="change",
        database_url=sqlite_url,
    )
    assert run.agent_version == "support-model@p8"
    assert run.labels == {
        "agent": "reference:v2",
        "model": "support-model",
        "prompt_version": "p8",
        "trigger": "change",
    }
    [notification] = run.notifications
    assert notification.delivered and notification.error is None
    assert notification.thread_replies == 1  # v2's failing cases, in the thread
    main = slack_env.posts[0]
    assert main["text"].startswith("FAIL support-desk on support-model@p8")
    assert run.flow_run_id is not None and run.flow_run_id in str(main["blocks"])
    assert slack_env.posts[1]["thread_ts"] == main["ts"]

    link = run_artifacts(run.flow_run_id, "regression-support-desk-slack")
    # Prefect stores a link artifact as Markdown: [text](link)
    assert link and f"]({notification.permalink})" in (link[0].data or "")
    progress = run_artifacts(run.flow_run_id, "regression-support-desk-progress")
    assert progress and progress[0].type == "progress" and progress[0].data == 100.0
    flow_run = _flow_run(run.flow_run_id)
    assert flow_run.name == "regression-support-desk-support-model@p8"
    assert {"suite:support-desk", "version:support-model@p8", "trigger:change"} <= set(flow_run.tags)

    stored = db.get_run(db.get_engine(sqlite_url), run.run_id)
    assert stored is not None and stored.labels == run.labels
    assert stored.notifications == []  # Slack's outcome is reported, not recorded as the run


def test_slack_failure_changes_neither_verdict_nor_records(
    slack_env: FakeSlack, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    common = {"suite": str(SUITE), "agent": "reference:v2", "database_url": sqlite_url}
    without = regression(**common, agent_version="v2-no-slack", notify=False)
    monkeypatch.setenv(TOKEN_ENV, "xoxb-revoked-secret")
    with caplog.at_level(logging.INFO):
        broken = regression(**common, agent_version="v2-no-slack")
    [notification] = broken.notifications
    assert (
        not notification.delivered
        and notification.error == "chat.postMessage: Slack answered invalid_auth (HTTP 200)"
    )
    assert slack_env.posts == []
    assert broken.ok == without.ok is False
    same = {"latency_s"}  # the only thing allowed to differ between two replays is timing
    assert [c.model_dump(exclude=same) for c in broken.cases] == [
        c.model_dump(exclude=same) for c in without.cases
    ]
    engine = db.get_engine(sqlite_url)
    stored = db.get_run(engine, broken.run_id)
    assert stored == broken.model_copy(update={"notifications": []})
    assert len(db.load_case_results(engine, broken.run_id)) == len(broken.cases)
    assert "xoxb-revoked-secret" not in caplog.text and TOKEN not in caplog.text
    assert "invalid_auth" in caplog.text  # the failure is in the run's log


def test_no_slack_configured_skips_quietly(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TOKEN_ENV, CHANNEL_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAILCHECK_SLACK_BLOCK", "no-such-block")
    run = regression(suite=str(SUITE), agent="reference:v1", database_url=sqlite_url)
    assert run.ok and run.notifications == []


def test_last_accepted_baseline_skips_failed_runs(sqlite_url: str) -> None:
    """A change-triggered run compares with the last run that passed its gate, whatever its version."""
    accepted = regression(
        suite=str(SUITE), agent="reference:v1", agent_version="accepted-v1", database_url=sqlite_url
    )
    assert accepted.ok
    regression(suite=str(SUITE), agent="reference:v2", agent_version="rejected-v2", database_url=sqlite_url)
    now = regression(
        suite=str(SUITE),
        agent="reference:v2",
        agent_version="next",
        baseline_version="last-accepted",
        database_url=sqlite_url,
        notify=False,
    )
    assert now.comparison is not None and now.comparison.baseline_run_id == accepted.run_id
    assert now.comparison.regressions and not now.ok
    assert now.comparison.baseline_pass_at_1 == 1.0


def test_progress_artifact_is_updated_in_place() -> None:
    from prefect import flow

    from trailcheck.tasks.publish import ProgressArtifact

    def value(tracker: ProgressArtifact) -> float:
        with get_client(sync_client=True) as client:
            found = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    key=ArtifactFilterKey(any_=["regression-progress-test-progress"])
                )
            )
        return float(next(a for a in found if a.id == tracker.artifact_id).data)

    @flow
    def replaying() -> list[float]:
        tracker = ProgressArtifact(
            "regression-progress-test-progress", total=4, description="test", every_s=0
        )
        seen = [value(tracker)]
        tracker.advance()
        tracker.advance()
        tracker.refresh()
        seen.append(value(tracker))
        tracker.at_least(1)  # a finished shard never moves it back
        tracker.refresh()
        seen.append(value(tracker))
        tracker.refresh(final=True)
        return [*seen, value(tracker)]

    assert replaying() == [0.0, 50.0, 50.0, 100.0]


def test_unreadable_slack_settings_are_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow

    from trailcheck.models import ChatMessage
    from trailcheck.tasks import notify

    def unreadable() -> None:
        raise RuntimeError("Prefect API unreachable while loading block 'trailcheck-slack'")

    monkeypatch.setattr(notify, "resolve_settings", unreadable)

    @flow
    def announce() -> object:
        return notify.notify_slack(ChatMessage(kind="regression", subject="s", text="hello"))

    result = announce()
    assert not result.delivered and not result.skipped
    assert result.error == (
        "could not read the Slack settings: RuntimeError: Prefect API unreachable while loading block "
        "'trailcheck-slack'"
    )
