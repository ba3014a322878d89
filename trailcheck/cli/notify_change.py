"""`trailcheck notify-change`: tell Prefect that the agent changed, so change-triggered runs start.

It posts one `trailcheck.agent.changed` event to the Prefect API's events endpoint (the same
request a CI job can make with curl, see the README). The `on-change-regression` deployment's
trigger (prefect.yaml) turns the event's payload into the run's parameters: model, prompt
version and agent URL.
"""

import base64
import re
from typing import Annotated

import httpx
import typer

from trailcheck.cli._support import EXIT_BAD_INPUT, EXIT_FAILED, err, out

EVENT_NAME = "trailcheck.agent.changed"


def agent_resource_id(agent: str) -> str:
    """A stable Prefect resource id for the agent, e.g. trailcheck.agent.127-0-0-1-8080-chat."""
    slug = re.sub(r"[^a-z0-9]+", "-", re.sub(r"^[a-z]+://", "", agent.lower())).strip("-")
    return f"trailcheck.agent.{slug or 'default'}"


def change_event(model: str, prompt_version: str, agent: str) -> dict[str, object]:
    """The event as the Prefect API takes it (JSON), with its own id and time."""
    from prefect.events import Event

    payload = {"model": model, "prompt_version": prompt_version, "agent": agent}
    event = Event(
        event=EVENT_NAME,
        resource={"prefect.resource.id": agent_resource_id(agent), "prefect.resource.name": agent},
        payload=payload,
    )
    return event.model_dump(mode="json")


def _api_settings(api_url: str | None) -> tuple[str | None, dict[str, str]]:
    from prefect.settings import get_current_settings

    settings = get_current_settings().api
    headers = {}
    if settings.key is not None:
        headers["Authorization"] = f"Bearer {settings.key.get_secret_value()}"
    elif settings.auth_string is not None:
        encoded = base64.b64encode(settings.auth_string.get_secret_value().encode()).decode()
        headers["Authorization"] = f"Basic {encoded}"
    return (api_url or settings.url), headers


def notify_change(
    model: Annotated[str, typer.Option(help="The model the agent now runs on, e.g. gpt-4o-mini-2026-10.")],
    prompt_version: Annotated[str, typer.Option(help="The prompt version now in use, e.g. p42.")],
    agent: Annotated[str, typer.Option(help="The changed agent's URL (what the regression run replays).")],
    api_url: Annotated[
        str | None, typer.Option(help="Prefect API URL (default: $PREFECT_API_URL / the Prefect profile).")
    ] = None,
) -> None:
    """Emit a `trailcheck.agent.changed` event to the Prefect API: change-triggered regressions start.

    Exit codes: 0 the event was accepted, 1 the Prefect API could not be reached, 2 bad input.
    """
    for name, value in (("--model", model), ("--prompt-version", prompt_version), ("--agent", agent)):
        if not value.strip():
            err.print(f"[bold red]error:[/] {name} must not be empty")
            raise typer.Exit(EXIT_BAD_INPUT)
    if not agent.startswith(("http://", "https://")):
        err.print(
            f"[bold red]error:[/] --agent must be the agent's http(s) URL, got {agent!r}", highlight=False
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    url, headers = _api_settings(api_url)
    if not url:
        err.print(
            "[bold red]error:[/] no Prefect API to send the event to: set PREFECT_API_URL "
            "(e.g. http://127.0.0.1:4200/api) or pass --api-url"
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    event = change_event(model, prompt_version, agent)
    endpoint = url.rstrip("/") + "/events"
    try:
        response = httpx.post(endpoint, json=[event], headers=headers, timeout=30)
    except httpx.HTTPError as exc:
        err.print(
            f"[bold red]error:[/] could not reach the Prefect API at {endpoint}: {exc}", highlight=False
        )
        raise typer.Exit(EXIT_FAILED) from None
    if response.status_code >= 300:
        err.print(
            f"[bold red]error:[/] the Prefect API at {endpoint} refused the event: HTTP "
            f"{response.status_code} {response.text[:300]}",
            highlight=False,
        )
        raise typer.Exit(EXIT_FAILED)
    out.print(
        f"sent {EVENT_NAME} {event['id']} to {endpoint}: "
        f"model {model}, prompt {prompt_version}, agent {agent}",
        highlight=False,
        soft_wrap=True,
    )
