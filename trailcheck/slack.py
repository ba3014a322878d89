"""Post a `ChatMessage` to Slack with slack-sdk: settings, rate limits, and failures as data.

Settings come from the environment or a Prefect Secret block (the token never from a flow
parameter, so it never lands in the UI):

- ``TRAILCHECK_SLACK_TOKEN`` and ``TRAILCHECK_SLACK_CHANNEL``, or
- a Secret block (default name ``trailcheck-slack``, or ``$TRAILCHECK_SLACK_BLOCK``) whose value is
  ``{"token": "xoxb-...", "channel": "#agent-ci"}``; the environment wins field by field;
- ``TRAILCHECK_SLACK_API_URL`` points the client elsewhere (a proxy, or a test server).

Posting never raises: a Slack outage, a bad token or a missing channel comes back as a
`NotificationResult` with the error, so a run's verdict and records never depend on Slack.
The token is kept in a `SecretStr` and scrubbed from every error text.
"""

import os
from collections.abc import Callable
from typing import cast

from pydantic import BaseModel, SecretStr
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from trailcheck.models import ChatMessage, NotificationResult

TOKEN_ENV = "TRAILCHECK_SLACK_TOKEN"
CHANNEL_ENV = "TRAILCHECK_SLACK_CHANNEL"
BLOCK_ENV = "TRAILCHECK_SLACK_BLOCK"
API_URL_ENV = "TRAILCHECK_SLACK_API_URL"
DEFAULT_BLOCK = "trailcheck-slack"
DEFAULT_API_URL = "https://slack.com/api/"


class SlackSettings(BaseModel):
    """Where and how to post. `token` is secret: it prints as '**********'."""

    token: SecretStr
    channel: str
    api_url: str = DEFAULT_API_URL
    timeout_s: int = 10
    max_rate_limit_retries: int = 3
    max_rate_limit_wait_s: int = 30
    max_error_retries: int = 2
    """Retries of a 500/503 from Slack and of a failed connection, with exponential backoff."""
    error_backoff_s: float = 0.5

    def get_client(self) -> WebClient:
        """A WebClient that waits out rate limits (Retry-After) and retries Slack's 500/503 and
        connection failures with backoff (0.5 s, 1 s, ...), all within the bounds above."""
        backoff = BackoffRetryIntervalCalculator(backoff_factor=self.error_backoff_s)
        handlers = [
            BoundedRateLimitRetryHandler(
                max_retry_count=self.max_rate_limit_retries, max_wait_s=self.max_rate_limit_wait_s
            ),
            ServerErrorRetryHandler(max_retry_count=self.max_error_retries, interval_calculator=backoff),
            ConnectionErrorRetryHandler(max_retry_count=self.max_error_retries, interval_calculator=backoff),
        ]
        return WebClient(
            token=self.token.get_secret_value(),
            base_url=self.api_url,
            timeout=self.timeout_s,
            retry_handlers=handlers,
        )


class BoundedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack-sdk's rate-limit handler (sleeps for Retry-After), except when Slack asks for too long.

    A run should not hang for minutes on a chat message: past `max_wait_s` the 429 is reported.
    """

    def __init__(self, max_retry_count: int = 3, max_wait_s: int = 30) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        assert response is not None
        retry_after = next((v for k, v in response.headers.items() if k.lower() == "retry-after"), ["1"])
        try:
            return int(retry_after[0]) <= self.max_wait_s
        except ValueError:
            return False


class SlackNotConfigured(Exception):
    """No channel or no token: nothing is posted (a skip, not a failure)."""


SecretLoader = Callable[[str], object]


def _load_secret_block(name: str) -> object:
    from prefect.blocks.system import Secret

    # Prefect's async_dispatch: from sync code, load() returns the block itself.
    return cast(Secret, Secret.load(name)).get()


def resolve_settings(load_block: SecretLoader = _load_secret_block) -> SlackSettings:
    """Settings from the environment, completed from the Secret block; SlackNotConfigured if incomplete."""
    token, channel = os.environ.get(TOKEN_ENV), os.environ.get(CHANNEL_ENV)
    block_name = os.environ.get(BLOCK_ENV, DEFAULT_BLOCK)
    if not (token and channel):
        try:
            value = load_block(block_name)
        except ValueError:  # Prefect's "Unable to find block document named ..."
            value = None
        if isinstance(value, dict):
            token = token or value.get("token")
            channel = channel or value.get("channel")
    if not token or not channel:
        raise SlackNotConfigured(
            f"Slack is not configured: set {TOKEN_ENV} and {CHANNEL_ENV}, or create a Prefect Secret "
            f'block {block_name!r} with {{"token": ..., "channel": ...}}'
        )
    return SlackSettings(
        token=SecretStr(str(token)),
        channel=str(channel),
        api_url=os.environ.get(API_URL_ENV, DEFAULT_API_URL),
    )


def _describe(exc: Exception, action: str, token: str) -> str:
    if isinstance(exc, SlackApiError):
        code = exc.response.get("error", "unknown_error") if exc.response is not None else "no response"
        status = exc.response.status_code if exc.response is not None else "?"
        text = f"{action}: Slack answered {code} (HTTP {status})"
    else:
        text = f"{action}: {type(exc).__name__}: {exc}"
    return text.replace(token, "***") if token else text


def post_message(settings: SlackSettings, message: ChatMessage) -> NotificationResult:
    """Post the message, then its thread replies, then ask for its permalink. Never raises."""
    client = settings.get_client()
    token = settings.token.get_secret_value()
    try:
        response = client.chat_postMessage(
            channel=settings.channel,
            text=message.text,
            blocks=message.blocks or None,
            unfurl_links=False,
            unfurl_media=False,
        )
    except (SlackClientError, OSError) as exc:
        return NotificationResult(
            channel=settings.channel, delivered=False, error=_describe(exc, "chat.postMessage", token)
        )
    channel_id, ts = str(response["channel"]), str(response["ts"])
    problems: list[str] = []
    replies = 0
    for reply in message.thread:
        try:
            client.chat_postMessage(
                channel=channel_id,
                thread_ts=ts,
                text=reply.text,
                blocks=reply.blocks or None,
                unfurl_links=False,
                unfurl_media=False,
            )
            replies += 1
        except (SlackClientError, OSError) as exc:
            problems.append(_describe(exc, f"thread reply {replies + 1}", token))
            break
    permalink = None
    try:
        permalink = str(client.chat_getPermalink(channel=channel_id, message_ts=ts)["permalink"])
    except (SlackClientError, OSError, KeyError) as exc:
        problems.append(_describe(exc, "chat.getPermalink", token))
    return NotificationResult(
        channel=settings.channel,
        delivered=True,
        ts=ts,
        permalink=permalink,
        thread_replies=replies,
        error="; ".join(problems) or None,
    )
