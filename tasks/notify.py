"""Announce a result in Slack: one task for every kind of result (render it first, then post it).

    message = render_run_message(run, flow_run.ui_url)     # or a live-sampling / contracts renderer
    result = notify_slack(message)                         # NotificationResult; never raises

A Slack failure is reported (in the returned result and the run's log), never raised: it must
not change a run's verdict or what the results database holds. Slack is optional: with no
token or channel configured the task says so and skips.
"""

import logging

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from trailcheck.models import ChatMessage, NotificationResult
from trailcheck.slack import SlackNotConfigured, post_message, resolve_settings


@task(name="notify-slack", cache_policy=NO_CACHE, retries=0)
def notify_slack(message: ChatMessage) -> NotificationResult:
    """Post `message` (and its thread) to the configured Slack channel; report, never raise."""
    return send_to_slack(message, get_run_logger())


def send_to_slack(message: ChatMessage, logger: logging.Logger | logging.LoggerAdapter) -> NotificationResult:
    """What `notify_slack` does, callable from inside another task (a notifier of live sampling)."""
    try:
        settings = resolve_settings()
    except SlackNotConfigured as exc:
        logger.info("%s; no Slack message for this %s", exc, message.kind)
        return NotificationResult(channel="", delivered=False, skipped=True, error=str(exc))
    except Exception as exc:  # e.g. the Secret block cannot be read: reported, the run goes on
        error = f"could not read the Slack settings: {type(exc).__name__}: {exc}"
        logger.warning("Slack message not sent (verdict unaffected): %s", error)
        return NotificationResult(channel="", delivered=False, error=error)
    try:
        result = post_message(settings, message)
    except Exception as exc:  # a bug here must not fail the run; post_message itself never raises
        token = settings.token.get_secret_value()
        error = f"posting to Slack failed: {type(exc).__name__}: {exc}".replace(token, "***")
        result = NotificationResult(channel=settings.channel, delivered=False, error=error)
    if not result.delivered:
        logger.warning(
            "Slack message to %s not delivered (verdict unaffected): %s", result.channel, result.error
        )
    elif result.error:
        logger.warning("Slack message posted to %s, with problems: %s", result.channel, result.error)
    else:
        logger.info("Slack message posted to %s: %s", result.channel, result.permalink)
    return result
