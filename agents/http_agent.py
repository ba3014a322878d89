"""An agent behind an HTTP JSON endpoint: one POST per user turn, tool calls as the agent reports them."""

import ssl
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import ValidationError

from agents._http import post_json
from agents._mapping import get_path, render_template
from agents._trial import TrialState, run_trial
from agents.config import HttpAgentConfig
from agents.errors import AgentReplyError
from agents.protocol import AgentRequest, ReportedToolCall
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, Turn, UserMessage


class HttpAgent:
    """Replays cases against an HTTP agent (trailcheck's protocol, or any JSON API via a mapping)."""

    def __init__(self, config: HttpAgentConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._injected = client
        self._idle: list[httpx.AsyncClient] = []
        self._owned: list[httpx.AsyncClient] = []
        self._ssl: ssl.SSLContext | None = None

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
        # Building an SSL context loads the CA bundle (~20 ms): build it once, share it.
        self._ssl = self._ssl or ssl.create_default_context()
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        client = httpx.AsyncClient(limits=limits, verify=self._ssl)
        self._owned.append(client)
        return client

    async def run(self, case: Case, trial: int) -> Trajectory:
        async with self._client() as client:
            return await self._run(client, case, trial)

    async def _run(self, client: httpx.AsyncClient, case: Case, trial: int) -> Trajectory:
        session_id = f"{case.id}#{trial}-{uuid.uuid4().hex[:8]}"
        history: list[dict[str, str]] = []

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            history.append({"role": "user", "content": turn.content})
            body = self._request_body(case, session_id, turn.content, history)
            reply = await post_json(
                client,
                self.config.url,
                body,
                headers=self.config.headers,
                timeout_s=self.config.timeout_s,
                max_bytes=self.config.max_response_bytes,
            )
            try:
                text = self._record_reply(state, reply)
            except (TypeError, ValueError) as exc:  # garbage in a mapped field (e.g. tokens: "many")
                raise AgentReplyError(f"unreadable reply from {self.config.url}: {exc}") from exc
            history.append({"role": "assistant", "content": text})

        return await run_trial(case, trial, case.timeout_s or self.config.timeout_s, play)

    def _request_body(self, case: Case, session_id: str, message: str, history: list[dict[str, str]]) -> Any:
        if self.config.request_template is None:
            return AgentRequest(session_id=session_id, message=message, context=case.context).model_dump()
        values = {
            "message": message,
            "session_id": session_id,
            "context": case.context,
            "history": list(history),
            "case_id": case.id,
        }
        return render_template(self.config.request_template, values)

    def _record_reply(self, state: TrialState, reply: Any) -> str:
        mapping = self.config.response
        text = get_path(reply, mapping.reply)
        if not isinstance(text, str):
            raise AgentReplyError(f"reply path {mapping.reply!r} holds {type(text).__name__}, expected text")
        for raw in _optional(reply, mapping.tool_calls) or []:
            try:
                call = ReportedToolCall.model_validate(raw)
            except ValidationError as exc:
                raise AgentReplyError(f"unreadable tool call in reply: {exc.errors()[0]['msg']}") from exc
            state.steps.append(ToolCall(**call.model_dump(), observed=False))
        state.steps.append(AssistantMessage(content=text))
        state.final_answer = text
        state.escalated = state.escalated or bool(_optional(reply, mapping.escalated))
        state.input_tokens += int(_optional(reply, mapping.input_tokens) or 0)
        state.output_tokens += int(_optional(reply, mapping.output_tokens) or 0)
        cost = _optional(reply, mapping.cost_usd)
        state.add_cost(float(cost) if cost is not None else None)
        return text

    async def aclose(self) -> None:
        for client in self._owned:
            await client.aclose()
        self._owned.clear()
        self._idle.clear()


def _optional(reply: Any, path: str | None) -> Any:
    return None if path is None else get_path(reply, path, None)
