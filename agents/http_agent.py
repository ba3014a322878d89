"""An agent behind an HTTP JSON endpoint: one POST per user turn, tool calls as the agent reports them.

By default the agent speaks trailcheck's protocol (agents/protocol.py). Any other JSON API is
described in the config by a request template and a response mapping (agents/_mapping.py).
"""

import functools
import os
import ssl
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
import httpx
from pydantic import JsonValue

from trailcheck.agents._http import post_json, post_json_aiohttp
from trailcheck.agents._mapping import map_reply, new_session_id, record_reply
from trailcheck.agents._template import render_template, render_text, template_placeholders, template_values
from trailcheck.agents._trial import TrialState, run_trial
from trailcheck.agents.config import AgentConfigError, HttpAgentConfig
from trailcheck.agents.errors import AgentError, AgentReplyError
from trailcheck.agents.gateway.link import GatewayLink
from trailcheck.agents.protocol import AgentRequest
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


def _env_proxy(url: str) -> str | None:
    """The proxy that ``$HTTP(S)_PROXY`` / ``$NO_PROXY`` give for `url`, as httpx would use.

    Looked up once per session: aiohttp's own ``trust_env`` reads them (and ~/.netrc, in a
    thread) on every request, which cost more than the request itself.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class HttpAgent:
    """Replays cases against an HTTP agent (trailcheck's protocol, or any JSON API via a mapping).

    Without an injected client the adapter opens one aiohttp session (on first use, in the
    running event loop) and closes it in `aclose`: its connection pool is cheap per request at
    any number of trials in flight, which httpx's was not (see agents/_http.py). Cookies are not
    kept, so no trial sees another's. An injected httpx client is used as is and left open.
    """

    def __init__(self, config: HttpAgentConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._secret_headers = _headers_from_env(config.headers_env)
        self._templated = any(
            template_placeholders(t) for t in [config.url, *config.headers, *config.headers.values()]
        )
        self._injected = client
        self._session: aiohttp.ClientSession | None = None
        self._control: httpx.AsyncClient | None = None  # the gateway's control API (a few calls a trial)

    def _own_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # The replay bounds requests in flight; the pool need not.
                connector=aiohttp.TCPConnector(limit=0, ssl=_ssl_context()),
                cookie_jar=aiohttp.DummyCookieJar(),
                proxy=_env_proxy(self.config.url),
            )
        return self._session

    def _url_and_headers(self, values: dict[str, JsonValue]) -> tuple[str, dict[str, str]]:
        """The turn's URL (placeholders filled, each value quoted for the path) and headers."""
        headers = {**self.config.headers, **self._secret_headers}
        if not self._templated:
            return self.config.url, headers
        url = render_text(self.config.url, values, escape=lambda v: urllib.parse.quote(v, safe=""))
        filled = {name: render_text(value, values) for name, value in self.config.headers.items()}
        return url, {**filled, **self._secret_headers}

    async def _post(self, body: JsonValue, timeout_s: float, values: dict[str, JsonValue]) -> Any:
        (url, headers), max_bytes = self._url_and_headers(values), self.config.max_response_bytes
        if self._injected is not None:
            return await post_json(
                self._injected, url, body, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes
            )
        return await post_json_aiohttp(
            self._own_session(), url, body, headers=headers, timeout_s=timeout_s, max_bytes=max_bytes
        )

    def _control_client(self) -> httpx.AsyncClient:
        if self._injected is not None:
            return self._injected
        if self._control is None:
            self._control = httpx.AsyncClient(verify=_ssl_context())
        return self._control

    async def run(self, case: Case, trial: int) -> Trajectory:
        """Play every turn of `case` in one fresh session; failures end up on the trajectory."""
        session_id = new_session_id(case.id, trial)
        timeout_s = case.timeout_s or self.config.timeout_s
        history: list[JsonValue] = []
        gateway = (
            GatewayLink(self.config.gateway_url, self._control_client()) if self.config.gateway_url else None
        )
        seen = 0

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            history.append({"role": "user", "content": turn.content})
            values = template_values(case, session_id, turn.content, history, len(history) // 2, trial)
            body = self._request_body(case, session_id, turn.content, values)
            try:
                document = await self._post(body, timeout_s, values)
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
            return await run_trial(case, trial, timeout_s, play, session_id)
        try:
            await gateway.open(session_id, case, trial)
        except AgentError as exc:
            return Trajectory(case_id=case.id, trial=trial, status=TrajectoryStatus.ERRORED, error=str(exc))
        trajectory = await run_trial(case, trial, timeout_s, play, session_id)
        try:
            calls = await gateway.close(session_id)
        except AgentError:
            return trajectory
        # A turn that errored never read its calls; they still belong on the trajectory.
        trajectory.steps.extend(calls[seen:])
        return trajectory

    def _request_body(
        self, case: Case, session_id: str, message: str, values: dict[str, JsonValue]
    ) -> JsonValue:
        if self.config.request_template is None:
            return AgentRequest(session_id=session_id, message=message, context=case.context).model_dump()
        return render_template(self.config.request_template, values)

    async def aclose(self) -> None:
        """Close the session this adapter opened (an injected client stays open)."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._control is not None:
            await self._control.aclose()
            self._control = None
