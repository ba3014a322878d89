"""An agent behind an HTTP JSON endpoint: one POST per user turn, tool calls as the agent reports them.

By default the agent speaks trailcheck's protocol (agents/protocol.py). Any other JSON API is
described in the config by a request template and a response mapping (agents/_mapping.py).
"""

import functools
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import JsonValue

from agents._http import post_json
from agents._mapping import map_reply, new_session_id, record_reply, render_template
from agents._trial import TrialState, run_trial
from agents.config import AgentConfigError, HttpAgentConfig
from agents.errors import AgentError, AgentReplyError
from agents.gateway.link import GatewayLink
from agents.protocol import AgentRequest
from trailcheck.models import Case, Trajectory, TrajectoryStatus, Turn, UserMessage


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: building an SSL context loads the CA bundle (~20 ms)."""
    return ssl.create_default_context()


def _headers_from_env(headers_env: dict[str, str]) -> dict[str, str]:
    """Header values read from the environment; AgentConfigError names a variable that is not set."""
    missing = [f"{var} (header {name})" for name, var in headers_env.items() if not os.environ.get(var)]
    if missing:
        raise AgentConfigError(f"environment variable(s) not set: {', '.join(missing)}")
    return {name: os.environ[var] for name, var in headers_env.items()}


class HttpAgent:
    """Replays cases against an HTTP agent (trailcheck's protocol, or any JSON API via a mapping).

    An injected client is used as is and left open; without one the adapter owns small clients
    (see `_client`) and closes them in `aclose`.
    """

    def __init__(self, config: HttpAgentConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._headers = {**config.headers, **_headers_from_env(config.headers_env)}
        self._injected = client
        self._idle: list[httpx.AsyncClient] = []
        self._owned: list[httpx.AsyncClient] = []

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client with one keep-alive connection per trial in flight.

        httpcore's pool does work per request proportional to requests x connections; with
        32 trials in flight on one pooled client that was the largest cost per case (profiled:
        ~1 ms of CPU a request). Small clients reused across trials keep it constant.
        """
        if self._injected is not None:
            yield self._injected
            return
        client = self._idle.pop() if self._idle else self._new_client()
        try:
            yield client
        finally:
            self._idle.append(client)

    def _new_client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = httpx.AsyncClient(limits=limits, verify=_ssl_context())
        self._owned.append(client)
        return client

    async def run(self, case: Case, trial: int) -> Trajectory:
        """Play every turn of `case` in one fresh session; failures end up on the trajectory."""
        async with self._client() as client:
            return await self._run(client, case, trial)

    async def _run(self, client: httpx.AsyncClient, case: Case, trial: int) -> Trajectory:
        session_id = new_session_id(case.id, trial)
        timeout_s = case.timeout_s or self.config.timeout_s
        history: list[JsonValue] = []
        gateway = GatewayLink(self.config.gateway_url, client) if self.config.gateway_url else None
        seen = 0

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            history.append({"role": "user", "content": turn.content})
            body = self._request_body(case, session_id, turn.content, history)
            try:
                document = await post_json(
                    client,
                    self.config.url,
                    body,
                    headers=self._headers,
                    timeout_s=timeout_s,
                    max_bytes=self.config.max_response_bytes,
                )
            except httpx.HTTPError as exc:  # what post_json leaves: an undecodable (e.g. bad gzip) body
                raise AgentReplyError(f"agent at {self.config.url}: {type(exc).__name__}: {exc}") from exc
            reply = map_reply(document, self.config.response)
            observed = None
            if gateway is not None:
                nonlocal seen
                observed = await gateway.calls(session_id, since=seen)
                seen += len(observed)
            record_reply(state, reply, observed)
            history.append({"role": "assistant", "content": reply.reply})

        if gateway is None:
            return await run_trial(case, trial, timeout_s, play)
        try:
            await gateway.open(session_id, case, trial)
        except AgentError as exc:
            return Trajectory(case_id=case.id, trial=trial, status=TrajectoryStatus.ERRORED, error=str(exc))
        trajectory = await run_trial(case, trial, timeout_s, play)
        try:
            calls = await gateway.close(session_id)
        except AgentError:
            return trajectory
        # A turn that errored never read its calls; they still belong on the trajectory.
        trajectory.steps.extend(calls[seen:])
        return trajectory

    def _request_body(self, case: Case, session_id: str, message: str, history: list[JsonValue]) -> JsonValue:
        if self.config.request_template is None:
            return AgentRequest(session_id=session_id, message=message, context=case.context).model_dump()
        values: dict[str, JsonValue] = {
            "message": message,
            "session_id": session_id,
            "context": case.context,
            "history": list(history),
            "case_id": case.id,
        }
        return render_template(self.config.request_template, values)

    async def aclose(self) -> None:
        """Close the clients this adapter opened (an injected client stays open)."""
        for client in self._owned:
            await client.aclose()
        self._owned.clear()
        self._idle.clear()
