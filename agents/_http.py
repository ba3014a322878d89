"""HTTP helpers shared by the adapters: bounded JSON bodies and transport errors as AgentErrors."""

import json
from typing import Any

import httpx

from agents._body import BodyTooLarge, read_capped
from agents.errors import AgentReplyError, AgentStatusError, AgentTimeout, AgentTransportError


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout_s: float,
    max_bytes: int,
    what: str = "agent",
) -> Any:
    """POST `body` as JSON and return the decoded reply, reading at most `max_bytes` of it."""
    try:
        async with client.stream("POST", url, json=body, headers=headers, timeout=timeout_s) as response:
            declared = response.headers.get("content-length")
            raw = await read_capped(response.aiter_bytes(), max_bytes, declared)
    except BodyTooLarge as exc:
        raise AgentReplyError(
            f"{what} at {url} sent a body {exc}; reply refused (max_response_bytes)"
        ) from None
    except httpx.TimeoutException as exc:
        raise AgentTimeout(f"{what} at {url} timed out after {timeout_s:g}s ({type(exc).__name__})") from exc
    except httpx.ProtocolError as exc:  # it answered, but broke HTTP (or hung up mid-answer): its fault
        raise AgentReplyError(
            f"{what} at {url} broke the HTTP protocol: {type(exc).__name__}: {exc}"
        ) from exc
    except httpx.TransportError as exc:
        raise AgentTransportError(f"cannot reach {what} at {url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        excerpt = raw[:300].decode("utf-8", "replace")
        raise AgentStatusError(f"{what} at {url} answered HTTP {response.status_code}: {excerpt}")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        excerpt = raw[:120].decode("utf-8", "replace")
        raise AgentReplyError(f"{what} at {url} answered with invalid JSON ({exc}): {excerpt!r}") from exc
