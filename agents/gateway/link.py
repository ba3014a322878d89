"""trailcheck's side of the gateway's control API: open a conversation, read its calls, close it."""

from urllib.parse import quote

import httpx

from trailcheck.agents.errors import AgentTransportError
from trailcheck.agents.gateway.app import CONTROL_PREFIX, OpenConversation, SessionCalls
from trailcheck.models import Case, ToolCall


class GatewayLink:
    """Talks to a running gateway's control API at `base_url` (its base URL, e.g. http://127.0.0.1:PORT)."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base = base_url.rstrip("/") + CONTROL_PREFIX + "sessions/"
        self.client = client

    async def open(self, session_id: str, case: Case, trial: int) -> None:
        """Start recording `session_id`, with the case's faults and fixtures."""
        body = OpenConversation(key=f"{case.id}#{trial}", faults=case.faults, fixtures=case.fixtures)
        await self._call("PUT", quote(session_id, safe=""), content=body.model_dump_json())

    async def calls(self, session_id: str, since: int = 0) -> list[ToolCall]:
        """The calls recorded in `session_id` from number `since` on (waits for calls in flight)."""
        response = await self._call("GET", f"{quote(session_id, safe='')}/calls", params={"since": since})
        return SessionCalls.model_validate_json(response.content).calls

    async def close(self, session_id: str) -> list[ToolCall]:
        """Stop recording `session_id` and forget it; every call it recorded."""
        response = await self._call("DELETE", quote(session_id, safe=""))
        return SessionCalls.model_validate_json(response.content).calls

    async def _call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        url = self.base + path
        try:
            response = await self.client.request(method, url, timeout=30.0, **kwargs)  # type: ignore[arg-type]  # json=/params= of httpx, passed through
        except httpx.HTTPError as exc:
            raise AgentTransportError(f"tool gateway at {url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise AgentTransportError(
                f"tool gateway at {url}: HTTP {response.status_code}: {response.text[:200]}"
            )
        return response
