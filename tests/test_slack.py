"""Slack: the Block Kit message of a run, and the real slack-sdk client against a local Slack API."""

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.fakes.slack_server import FakeSlack, serve_slack
from trailcheck.models import (
    CaseShift,
    CaseSummary,
    ChatMessage,
    ChatReply,
    Comparison,
    Divergence,
    FailureCategory,
    Regression,
    RunResult,
)
from trailcheck.render.slack_blocks import escape_slack
from trailcheck.render.slack_regression import render_run_message
from trailcheck.slack import (
    API_URL_ENV,
    BLOCK_ENV,
    CHANNEL_ENV,
    TOKEN_ENV,
    SlackNotConfigured,
    SlackSettings,
    post_message,
    resolve_settings,
)

SNAPSHOT = Path(__file__).parent / "snapshots" / "slack_run_message.json"
TOKEN = "xoxb-1111-2222-secret-token"
HOSTILE = "Done <!channel> @here &amp; <http://evil.example|your invoice> <@U123> ok"
FLOW_RUN_URL = "http://127.0.0.1:4200/runs/flow-run/abc"


def run() -> RunResult:
    return RunResult(
        run_id="run-2",
        suite="support-desk",
        suite_version="1",
        agent_version="gpt-4o-mini@p7",
        baseline_version="last-accepted",
        trials=3,
        started_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
        labels={"model": "gpt-4o-mini", "prompt_version": "p7", "trigger": "change"},
        cases=[
            CaseSummary(
                case_id="order-status", trials=3, passes=3, pass_at_1=1.0, cost_usd=0.0004, latency_s=0.2
            ),
            CaseSummary(
                case_id="refund-provider-down",
                trials=3,
                passes=0,
                pass_at_1=0.0,
                failure_category=FailureCategory.SILENT_ERROR,
                reason=f"final_answer: must not say 'processed' in {HOSTILE!r}",
                cost_usd=0.0006,
                latency_s=0.4,
            ),
            CaseSummary(
                case_id="greeting",
                trials=3,
                passes=2,
                pass_at_1=2 / 3,
                reason="final_answer: missing 'hello'",
                cost_usd=0.0002,
                latency_s=0.3,
            ),
        ],
        pass_at_1=5 / 9,
        pass_hat_k={1: 5 / 9, 2: 4 / 9, 3: 1 / 3},
        comparison=Comparison(
            baseline_run_id="run-1",
            baseline_version="gpt-4o-mini@p6",
            regressions=[
                Regression(
                    case_id="refund-provider-down",
                    baseline_pass_rate=1.0,
                    current_pass_rate=0.0,
                    reason="final_answer: must not say 'processed'",
                    failure_category=FailureCategory.SILENT_ERROR,
                    divergence=Divergence(
                        step_index=1, baseline_step="tool lookup_order(...)", current_step=None
                    ),
                )
            ],
            flaky=[
                CaseShift(
                    case_id="greeting", baseline_passes=3, baseline_trials=3, passes=2, trials=3, p_value=0.5
                )
            ],
            baseline_pass_at_1=1.0,
            baseline_pass_hat_k={1: 1.0, 2: 1.0, 3: 1.0},
            baseline_cost_per_case_usd=0.0003,
            baseline_latency_per_case_s=0.3,
        ),
    )


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with serve_slack(token=TOKEN, channels={"#agent-ci": "C0AGENTCI"}) as server:
        yield server


@pytest.fixture
def settings(slack: FakeSlack) -> SlackSettings:
    slack.reset()
    return SlackSettings(token=SecretStr(TOKEN), channel="#agent-ci", api_url=slack.base_url)


def test_message_matches_the_reviewed_snapshot() -> None:
    message = render_run_message(run(), FLOW_RUN_URL)
    rendered = json.dumps(message.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "Slack message changed: review, then UPDATE_SNAPSHOTS=1"


def test_message_says_verdict_changes_and_links_the_flow_run() -> None:
    message = render_run_message(run(), FLOW_RUN_URL)
    text = json.dumps(message.blocks, ensure_ascii=False)
    assert message.blocks[0]["type"] == "header" and "REGRESSED" in message.blocks[0]["text"]["text"]
    assert message.text.startswith(
        "REGRESSED support-desk on gpt-4o-mini@p7: 1 regression(s) vs gpt-4o-mini@p6"
    )
    # The person's reason first, the check after; counts against the baseline.
    assert "baseline 3/3 -> now 2/3 _flaky, not a significant drop_: missing 'hello' (final_answer)" in text
    # The thread adds what the channel could not show, and does not repeat a case shown whole.
    assert "`greeting`" not in json.dumps([r.blocks for r in message.thread], ensure_ascii=False)
    assert "55.6% (-44.4 pts)" in text and "pass^3*\\n33.3% (-66.7 pts)" in text
    assert "$0.00040 (+33%)" in text  # cost per case against the baseline's $0.0003
    assert "1 regressed · 0 fixed · 1 flaky" in text
    assert "[silent_error]" in text and "_flaky, not a significant drop_" in text
    button = message.blocks[-1]["elements"][0]
    assert button["url"] == FLOW_RUN_URL
    assert len(message.thread) == 1 and "diverges at step 1" in json.dumps(message.thread[0].blocks)


def test_agent_text_cannot_ping_or_hide_links() -> None:
    escaped = escape_slack(HOSTILE)
    assert "<" not in escaped and ">" not in escaped
    assert "&lt;!channel&gt;" in escaped and "&amp;amp;" in escaped
    assert "@here" not in escaped and "@\u200bhere" in escaped
    assert "<http://evil.example|" not in escaped
    everything = json.dumps(render_run_message(run(), FLOW_RUN_URL).model_dump(), ensure_ascii=False)
    assert "<!channel>" not in everything and "<@U123>" not in everything and "@here" not in everything
    assert "|your invoice>" not in everything


def test_many_failures_stay_within_slack_limits(settings: SlackSettings, slack: FakeSlack) -> None:
    big = run()
    failing = [
        CaseSummary(case_id=f"case-{i:03}", trials=1, passes=0, pass_at_1=0.0, reason="x" * 5000)
        for i in range(250)
    ]
    big = big.model_copy(update={"cases": big.cases + failing})
    message = render_run_message(big, FLOW_RUN_URL)
    result = post_message(settings, message)
    assert result.delivered and result.error is None, result.error
    assert result.thread_replies == len(message.thread) == 10
    assert "more in the Prefect UI" in json.dumps(message.thread[-1].blocks)


def test_posts_message_thread_and_gets_the_permalink(settings: SlackSettings, slack: FakeSlack) -> None:
    message = render_run_message(run(), FLOW_RUN_URL)
    result = post_message(settings, message)
    assert result.delivered and result.error is None
    assert slack.methods() == ["chat.postMessage", "chat.postMessage", "chat.getPermalink"]
    main, reply = slack.posts
    assert (
        main["channel"] == "C0AGENTCI" and main["blocks"] == message.blocks and main["text"] == message.text
    )
    assert main["unfurl_links"] is False
    assert reply["thread_ts"] == main["ts"] == result.ts
    assert (
        result.permalink
        == f"https://trailcheck-test.slack.com/archives/C0AGENTCI/p{main['ts'].replace('.', '')}"
    )
    assert all(call.token == TOKEN for call in slack.calls)  # sent in the Authorization header


def test_rate_limit_is_waited_out(settings: SlackSettings, slack: FakeSlack) -> None:
    slack.rate_limit(times=1, retry_after=1)
    started = time.monotonic()
    result = post_message(settings, ChatMessage(kind="regression", subject="s", text="hello"))
    assert result.delivered, result.error
    assert time.monotonic() - started >= 1.0  # slept for Retry-After
    assert slack.methods()[:2] == ["chat.postMessage", "chat.postMessage"]


def test_rate_limit_longer_than_the_bound_is_reported(settings: SlackSettings, slack: FakeSlack) -> None:
    slack.rate_limit(times=1, retry_after=3600)
    started = time.monotonic()
    result = post_message(settings, ChatMessage(kind="regression", subject="s", text="hello"))
    assert time.monotonic() - started < 5
    assert not result.delivered and "ratelimited (HTTP 429)" in (result.error or "")


def test_rate_limit_retries_are_bounded(settings: SlackSettings, slack: FakeSlack) -> None:
    slack.rate_limit(times=10, retry_after=0)
    bounded = settings.model_copy(update={"max_rate_limit_retries": 2})
    result = post_message(bounded, ChatMessage(kind="regression", subject="s", text="hello"))
    assert not result.delivered and "ratelimited" in (result.error or "")
    assert slack.methods() == ["chat.postMessage"] * 3  # the first try and two retries


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"token": SecretStr("xoxb-wrong-token")}, "invalid_auth"),
        ({"channel": "#nowhere"}, "channel_not_found"),
    ],
)
def test_api_errors_are_reported_without_the_token(
    settings: SlackSettings, slack: FakeSlack, change: dict, error: str
) -> None:
    broken = settings.model_copy(update=change)
    result = post_message(broken, render_run_message(run(), FLOW_RUN_URL))
    assert not result.delivered and result.ts is None
    assert f"chat.postMessage: Slack answered {error} (HTTP 200)" == result.error
    assert slack.posts == []
    assert TOKEN not in result.model_dump_json() and "wrong-token" not in result.model_dump_json()


def test_a_slack_outage_is_retried_with_backoff(settings: SlackSettings, slack: FakeSlack) -> None:
    slack.fail(times=2, status=503)
    fast = settings.model_copy(update={"error_backoff_s": 0.05})
    result = post_message(fast, ChatMessage(kind="regression", subject="s", text="hello"))
    assert result.delivered, result.error
    assert slack.methods()[:3] == ["chat.postMessage"] * 3  # two 503s, then delivered


def test_a_lasting_slack_outage_is_bounded_then_reported(settings: SlackSettings, slack: FakeSlack) -> None:
    slack.fail(times=10, status=500)
    fast = settings.model_copy(update={"error_backoff_s": 0.05, "max_error_retries": 2})
    result = post_message(fast, ChatMessage(kind="regression", subject="s", text="hello"))
    assert not result.delivered and "chat.postMessage" in (result.error or "")
    assert slack.methods() == ["chat.postMessage"] * 3  # the first try and two retries
    assert TOKEN not in (result.error or "")


def test_slack_unreachable_is_reported(settings: SlackSettings) -> None:
    down = settings.model_copy(update={"api_url": "http://127.0.0.1:1/api/"})
    result = post_message(down, ChatMessage(kind="regression", subject="s", text="hello"))
    assert not result.delivered and "chat.postMessage" in (result.error or "")
    assert TOKEN not in (result.error or "")


def test_settings_print_no_token() -> None:
    settings = SlackSettings(token=SecretStr(TOKEN), channel="#c")
    assert TOKEN not in repr(settings) and TOKEN not in settings.model_dump_json()


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(CHANNEL_ENV, "#agent-ci")
    monkeypatch.setenv(API_URL_ENV, "http://127.0.0.1:9/api/")
    settings = resolve_settings(load_block=lambda name: pytest.fail("the environment was enough"))
    assert settings.token.get_secret_value() == TOKEN and settings.api_url == "http://127.0.0.1:9/api/"


def test_not_configured_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (TOKEN_ENV, CHANNEL_ENV):
        monkeypatch.delenv(name, raising=False)

    def missing(name: str) -> object:
        raise ValueError(f"Unable to find block document named {name}")

    with pytest.raises(SlackNotConfigured, match=f"set {TOKEN_ENV} and {CHANNEL_ENV}"):
        resolve_settings(load_block=missing)


@pytest.mark.usefixtures("prefect_harness")
def test_settings_from_a_prefect_secret_block(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.blocks.system import Secret

    for name in (TOKEN_ENV, CHANNEL_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(BLOCK_ENV, "trailcheck-slack-test")
    Secret(value={"token": TOKEN, "channel": "#from-block"}).save("trailcheck-slack-test", overwrite=True)
    monkeypatch.setenv(CHANNEL_ENV, "#from-env")  # the environment wins field by field
    settings = resolve_settings()
    assert settings.token.get_secret_value() == TOKEN and settings.channel == "#from-env"


def test_one_time_budget_bounds_every_call_of_a_notification(
    settings: SlackSettings, slack: FakeSlack
) -> None:
    """Rate limits on the message and its thread: all the waits together stay within the budget."""
    slack.rate_limit(times=20, retry_after=2)
    budgeted = settings.model_copy(update={"budget_s": 5.0})
    message = ChatMessage(
        kind="regression",
        subject="s",
        text="hello",
        thread=[ChatReply(text="r")],
    )
    started = time.monotonic()
    result = post_message(budgeted, message)
    took = time.monotonic() - started
    # Without one budget: 3 waits of 2 s per call, for each of the three calls (18 s and more).
    assert took < 5.0 + 2.0, took
    assert not result.delivered and "ratelimited" in (result.error or "")
    assert len(slack.methods()) <= 3  # no retry started that could not finish in time


def test_a_missing_ui_url_means_no_button_not_a_broken_one() -> None:
    for missing in (None, "", "None/flow-runs/flow-run/0b1c", "/flow-runs/flow-run/0b1c"):
        blocks = render_run_message(run(), missing).blocks
        assert not [b for b in blocks if b["type"] == "actions"], missing
        assert "None/flow-runs" not in json.dumps(blocks)
