"""The tool gateway: an ASGI reverse proxy between an agent and its tools.

Every request the agent sends to its tools is mapped to a tool name (routes: method + path
template), answered from the case's fixtures or forwarded upstream, passed through the fault
layer, delivered, and recorded as an observed `ToolCall` of its conversation. Conversations are
told apart by the ``X-Session-Id`` header (the session id trailcheck gives the agent); a request
without it belongs to the only open conversation, so agents that do not send it must be replayed
one conversation at a time (``--concurrency 1``).

trailcheck drives the gateway through a small control API under ``/_trailcheck/`` (the prefix is
reserved): open a conversation with its faults and fixtures, read the calls recorded so far,
close it. The adapter reads the calls after every turn, so they land in the trajectory between
the user's message and the agent's answer.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
from pydantic import BaseModel, Field, JsonValue

from trailcheck.agents.conversation import Conversation, Exchange, UpstreamError
from trailcheck.agents.faults import ToolAnswer
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models import FaultSpec, ToolCall, ToolFixture, ToolRoute

CONTROL_PREFIX = "/_trailcheck/"
SESSION_HEADER = "x-session-id"
UNATTRIBUTED = ""
_HOP_BY_HOP = {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade"}
_DROP_FROM_UPSTREAM = {"content-length", "transfer-encoding", "connection", "content-encoding", "keep-alive"}
_SETTLE_S = 5.0

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class OpenConversation(BaseModel):
    """Body of ``PUT /_trailcheck/sessions/{session_id}``."""

    key: str = Field(min_length=1, description="Seeds the faults: case id and trial.")
    faults: list[FaultSpec] = Field(default_factory=list)
    fixtures: list[ToolFixture] = Field(default_factory=list)


class SessionCalls(BaseModel):
    """Body of the answers of ``GET .../calls`` and ``DELETE .../sessions/{session_id}``."""

    calls: list[ToolCall]


@dataclass
class _Session:
    conversation: Conversation
    in_flight: int = 0
    settled: asyncio.Event = field(default_factory=asyncio.Event)


def inventory_routes(loaded: LoadedInventory) -> list[ToolRoute]:
    """The routes of an integration inventory's tools (the base URL's path, if any, prefixes each)."""
    routes = []
    for tool in loaded.inventory.tools:
        prefix = urlsplit(tool.endpoint.base_url).path.rstrip("/")
        routes.append(
            ToolRoute(
                tool=tool.name,
                method=tool.endpoint.method.value,
                path=prefix + tool.endpoint.path,
                response_schema=tool.response_schema,
                parameters=tool.parameters,
            )
        )
    return routes


class Gateway:
    """The ASGI app. `upstream` None means offline: only fixtures (and faults) answer.

    `inventory` (tools.yaml), when given, names the calls its routes match (after the explicit
    `routes`, which win) and gives the schema_break fault the tools' contracts to break.
    """

    def __init__(
        self,
        upstream: str | None,
        routes: list[ToolRoute] | None = None,
        session_header: str = SESSION_HEADER,
        upstream_timeout_s: float = 60.0,
        inventory: LoadedInventory | None = None,
    ) -> None:
        self.upstream = upstream.rstrip("/") if upstream else None
        self.inventory = inventory
        self.routes = list(routes or []) + (inventory_routes(inventory) if inventory else [])
        self.session_header = session_header.lower().encode()
        self._header_name = "X-Session-Id" if session_header.lower() == SESSION_HEADER else session_header
        self.upstream_timeout_s = upstream_timeout_s
        self.sessions: dict[str, _Session] = {}
        self.forwarded = 0
        # Calls no open conversation could be told to own: never on a trajectory, so counted and reported.
        self.without_session = 0
        self.unknown_session = 0
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"].startswith(CONTROL_PREFIX):
            await self._control(scope, receive, send)
        else:
            await self._proxy(scope, receive, send)

    # -- the proxy --------------------------------------------------------------------------

    def tool_of(self, method: str, path: str) -> tuple[str, dict[str, JsonValue], ToolRoute | None]:
        """The tool a request calls and its path parameters; unrouted requests are named ``GET /path``."""
        for route in self.routes:
            params = route.match(method, path)
            if params is not None:
                return route.tool, dict(params), route
        return f"{method} {path}", {}, None

    async def _proxy(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        body = await _read_body(receive)
        method, path = scope["method"], scope["path"]
        tool, args, route = self.tool_of(method, path)
        args = {**args, **_query_args(scope)}
        args = {**(route.typed(args) if route else args), **_body_args(body)}
        session = self._session_for(scope)
        session.in_flight += 1
        session.settled.clear()
        conversation = session.conversation
        try:
            exchange = await conversation.exchange(
                tool, args, lambda: self._forward(scope, body), route.response_schema if route else None
            )
        except UpstreamError as exc:
            exchange = Exchange(
                ToolAnswer.of_json(502, {"error": f"trailcheck gateway: {exc}"}), error=str(exc)
            )
        try:
            await self._deliver(exchange, receive, send, started, conversation, tool, args)
        finally:
            session.in_flight -= 1
            if session.in_flight == 0:
                session.settled.set()

    async def _deliver(
        self,
        exchange: Exchange,
        receive: Receive,
        send: Send,
        started: float,
        conversation: Conversation,
        tool: str,
        args: dict[str, JsonValue],
    ) -> None:
        if exchange.delay_s and await _caller_gives_up(receive, exchange.delay_s):
            waited = time.perf_counter() - started
            gave_up = f"no answer: the caller gave up after {waited:.2f}s"
            kind = exchange.fault.kind.value if exchange.fault else "slow"
            unanswered = Exchange(None, exchange.fault)
            conversation.record(tool, args, unanswered, waited, error=f"{gave_up} ({kind} fault)")
            return
        response = exchange.response
        if response is None:  # a timeout the caller sat out: say so, as a proxy would
            response = ToolAnswer.of_json(504, {"error": "trailcheck gateway: tool timed out"})
            kind = exchange.fault.kind.value if exchange.fault else "timeout"
            exchange = Exchange(response, exchange.fault, error=f"HTTP 504: tool timed out ({kind} fault)")
        body = response.body if exchange.truncate_at is None else response.body[: exchange.truncate_at]
        headers = [(k.encode(), v.encode()) for k, v in response.headers.items()]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send(
            {"type": "http.response.body", "body": body, "more_body": exchange.truncate_at is not None}
        )
        # A truncated answer ends here, its body incomplete: the server drops the connection.
        conversation.record(tool, args, exchange, time.perf_counter() - started, sent=body)

    async def _forward(self, scope: Scope, body: bytes) -> ToolAnswer:
        if self.upstream is None:
            raise UpstreamError("no upstream: this gateway answers from fixtures only")
        if self._client is None:  # created inside the server's event loop
            self._client = httpx.AsyncClient(timeout=self.upstream_timeout_s)
        query = scope.get("query_string", b"").decode()
        url = self.upstream + scope["path"] + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in scope["headers"] if k.decode().lower() not in _HOP_BY_HOP]
        self.forwarded += 1
        try:
            answer = await self._client.request(scope["method"], url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"upstream {self.upstream} timed out ({type(exc).__name__})", timed_out=True
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"upstream {self.upstream} unreachable: {type(exc).__name__}: {exc}") from exc
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP_FROM_UPSTREAM}
        return ToolAnswer(answer.status_code, answer.content, kept)

    def _session_for(self, scope: Scope) -> _Session:
        sid = next((v.decode() for k, v in scope["headers"] if k.lower() == self.session_header), None)
        if sid is None:
            open_ones = [s for s in self.sessions if s != UNATTRIBUTED]
            sid = open_ones[0] if len(open_ones) == 1 else UNATTRIBUTED
            self.without_session += sid == UNATTRIBUTED
        elif sid not in self.sessions:
            self.unknown_session += 1
        if sid not in self.sessions:
            self.sessions[sid] = _Session(Conversation(sid or "unattributed", inventory=self.inventory))
        return self.sessions[sid]

    def lost_calls(self) -> dict[str, int]:
        """Calls recorded on no trajectory: without the session header while several conversations
        (or none) were open, or with a session id trailcheck never opened."""
        return {"without_session": self.without_session, "unknown_session": self.unknown_session}

    def warnings(self) -> list[str]:
        """What a person must be told about the calls no trajectory holds (empty when none)."""
        header = self._header_name
        out = []
        if self.without_session:
            out.append(
                f"{self.without_session} tool call(s) had no {header} header while several conversations "
                f"(or none) were open, so no trajectory holds them: send {header} with the session id "
                "trailcheck gives each turn, or run with --concurrency 1"
            )
        if self.unknown_session:
            out.append(
                f"{self.unknown_session} tool call(s) carried a {header} that names no conversation "
                "trailcheck opened, so no trajectory holds them: send the session_id of the turn as is"
            )
        return out

    # -- the control API --------------------------------------------------------------------

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        method = scope["method"]
        raw = (scope.get("raw_path") or scope["path"].encode()).decode().split("?", 1)[0]
        parts = [unquote(p) for p in raw[len(CONTROL_PREFIX) :].strip("/").split("/")]
        if parts == ["health"]:
            health: dict[str, JsonValue] = {
                "status": "ok",
                "sessions": len(self.sessions),
                "forwarded": self.forwarded,
            }
            await _json(send, 200, {**health, **self.lost_calls()})
            return
        if len(parts) < 2 or parts[0] != "sessions":
            await _json(send, 404, {"error": f"unknown control path {scope['path']}"})
            return
        sid = parts[1]
        if method == "PUT" and len(parts) == 2:
            try:
                opened = OpenConversation.model_validate_json(body)
            except ValueError as exc:
                await _json(send, 422, {"error": f"invalid conversation: {exc}"})
                return
            self.sessions[sid] = _Session(
                Conversation(opened.key, opened.faults, opened.fixtures, self.inventory)
            )
            await _json(send, 204, None)
        elif method == "GET" and parts[2:] == ["calls"]:
            since = int(dict(parse_qsl(scope.get("query_string", b"").decode())).get("since", "0"))
            calls = await self._settled_calls(sid)
            await _json(send, 200, SessionCalls(calls=calls[since:]).model_dump(mode="json"))
        elif method == "DELETE" and len(parts) == 2:
            calls = await self._settled_calls(sid)
            self.sessions.pop(sid, None)
            await _json(send, 200, SessionCalls(calls=calls).model_dump(mode="json"))
        else:
            await _json(send, 405, {"error": f"{method} not allowed on {scope['path']}"})

    async def _settled_calls(self, sid: str) -> list[ToolCall]:
        """The session's calls once none is in flight (an agent that gave up on a call may answer
        before the gateway has seen the connection close)."""
        session = self.sessions.get(sid)
        if session is None:
            return []
        if session.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.settled.wait(), _SETTLE_S)
        return list(session.conversation.calls)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _caller_gives_up(receive: Receive, delay_s: float) -> bool:
    """Wait `delay_s`; True as soon as the caller closes the connection instead."""

    async def disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    waiter = asyncio.ensure_future(disconnect())
    try:
        await asyncio.wait_for(asyncio.shield(waiter), delay_s)
    except TimeoutError:
        return False
    finally:
        waiter.cancel()
    return True


def _query_args(scope: Scope) -> dict[str, JsonValue]:
    pairs = parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True)
    args: dict[str, JsonValue] = {}
    for key, value in pairs:
        previous = args.get(key)
        args[key] = (
            value
            if previous is None
            else [*previous, value]
            if isinstance(previous, list)
            else [previous, value]
        )
    return args


def _body_args(body: bytes) -> dict[str, JsonValue]:
    if not body:
        return {}
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return {"body": body[:10_000].decode("utf-8", "replace")}
    return document if isinstance(document, dict) else {"body": document}


async def _json(send: Send, status: int, document: JsonValue) -> None:
    body = b"" if status == 204 else json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
