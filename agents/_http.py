"""HTTP helpers shared by the adapters: bounded JSON bodies and transport errors as AgentErrors.

Two clients, one contract. `post_json` takes an httpx client (the OpenAI tool loop, and any
client a caller injects); `post_json_aiohttp` an aiohttp session, which the HTTP adapter uses
for its own requests: at 32 trials in flight httpx + httpcore + h11 cost about 0.6 ms of CPU a
request on this machine against 0.15 ms for aiohttp (C parser, headers and body in one write),
and that was most of the pipeline's overhead per case. Both raise the same `AgentError`s with
the same messages, bar the name of the library's exception where one is quoted; both read the
body through `trailcheck.agents._body.read_capped`, the one place reply sizes are bounded.

Whose fault: a peer that cannot be reached is an `AgentTransportError` (infrastructure, retried
when retries are on); a peer that answered but broke HTTP, sent too much or sent an undecodable
body is an `AgentReplyError` (the agent's fault, never retried).
"""

import json
from typing import Any

import aiohttp
import httpx

from trailcheck.agents._body import BodyTooLarge, read_capped
from trailcheck.agents.errors import AgentReplyError, AgentStatusError, AgentTimeout, AgentTransportError


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
        raise _too_large(what, url, exc) from None
    except httpx.TimeoutException as exc:
        raise AgentTimeout(f"{what} at {url} timed out after {timeout_s:g}s ({type(exc).__name__})") from exc
    except httpx.ProtocolError as exc:  # it answered, but broke HTTP (or hung up mid-answer): its fault
        raise _broke_http(what, url, exc) from exc
    except httpx.TransportError as exc:
        raise AgentTransportError(f"cannot reach {what} at {url}: {type(exc).__name__}: {exc}") from exc
    except httpx.DecodingError as exc:
        raise _undecodable(what, url, exc) from exc
    return _decode(what, url, response.status_code, raw)


async def post_json_aiohttp(
    session: aiohttp.ClientSession,
    url: str,
    body: Any,
    *,
    headers: dict[str, str] | None = None,
    timeout_s: float,
    max_bytes: int,
    what: str = "agent",
) -> Any:
    """`post_json` over an aiohttp session: same reply, same errors.

    Redirects are not followed (as with httpx's default): a 3xx is an answer, and not JSON.
    """
    try:
        async with session.post(
            url,
            json=body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as response:
            declared = response.headers.get("Content-Length")
            raw = await read_capped(response.content.iter_any(), max_bytes, declared)
            status = response.status
    except BodyTooLarge as exc:
        raise _too_large(what, url, exc) from None
    except TimeoutError as exc:  # aiohttp's own timeouts subclass it
        raise AgentTimeout(f"{what} at {url} timed out after {timeout_s:g}s ({type(exc).__name__})") from exc
    except aiohttp.ClientPayloadError as exc:
        # It answered, then the body was cut short (its fault) or could not be decoded (bad gzip).
        if "decod" in str(exc).lower():
            raise _undecodable(what, url, exc) from exc
        raise _broke_http(what, url, exc) from exc
    except (aiohttp.ClientResponseError, aiohttp.ServerDisconnectedError) as exc:
        # Malformed status line or headers, or it hung up instead of answering: it broke HTTP.
        raise _broke_http(what, url, exc) from exc
    except aiohttp.ClientConnectorError as exc:
        # Its str() reads "Cannot connect to host h:p ssl:default [...]" even for plain http.
        reason = exc.os_error.strerror or str(exc.os_error)
        raise AgentTransportError(
            f"cannot reach {what} at {url}: {type(exc.os_error).__name__}: {reason}"
        ) from exc
    except aiohttp.ClientError as exc:
        raise AgentTransportError(f"cannot reach {what} at {url}: {type(exc).__name__}: {exc}") from exc
    return _decode(what, url, status, raw)


def _too_large(what: str, url: str, exc: BodyTooLarge) -> AgentReplyError:
    return AgentReplyError(f"{what} at {url} sent a body {exc}; reply refused (max_response_bytes)")


def _broke_http(what: str, url: str, exc: Exception) -> AgentReplyError:
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())
    return AgentReplyError(f"{what} at {url} broke the HTTP protocol: {type(exc).__name__}: {detail}")


def _undecodable(what: str, url: str, exc: Exception) -> AgentReplyError:
    detail = " ".join(str(getattr(exc, "message", None) or exc).split())
    return AgentReplyError(
        f"{what} at {url} sent a reply that could not be decoded ({type(exc).__name__}: {detail})"
    )


def _decode(what: str, url: str, status: int, raw: bytes) -> Any:
    if status >= 400:
        excerpt = raw[:300].decode("utf-8", "replace")
        raise AgentStatusError(f"{what} at {url} answered HTTP {status}: {excerpt}")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        excerpt = raw[:120].decode("utf-8", "replace")
        raise AgentReplyError(f"{what} at {url} answered with invalid JSON ({exc}): {excerpt!r}") from exc
