"""trailcheck drives an OpenAI-compatible chat-completions model and runs its tool calls itself.

Because trailcheck executes every tool call against the configured endpoint, the trajectory
records what was observed (arguments sent, status, body, latency), not what the model claims.
A tool's failure is the tool's, not the agent's: it is recorded on the ToolCall and fed back
to the model as ``Error: ...`` (the tau-bench convention); only the model endpoint failing, or
the loop not finishing within `max_tool_rounds`, errors the trial. The API key is held as a
SecretStr and redacted from every error.

`call_tool` is the one place a tool is executed. When a case declares faults or fixtures, it
goes through the same fault layer as the tool gateway (agents/conversation.py), without a proxy:
the recorded ToolCall then carries the injected fault.
"""

import asyncio
import json
import os
import time
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, JsonValue, SecretStr, ValidationError

from trailcheck.agents._body import BodyTooLarge, read_capped
from trailcheck.agents._http import post_json
from trailcheck.agents._trial import TrialState, run_trial
from trailcheck.agents.config import AgentConfigError, OpenAIAgentConfig, ToolEndpoint
from trailcheck.agents.conversation import Conversation, Exchange, UpstreamError
from trailcheck.agents.errors import AgentError, AgentReplyError
from trailcheck.agents.faults import ToolAnswer
from trailcheck.loading.inventory import load_inventory
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, Turn, UserMessage

Message = dict[str, Any]  # one chat message as sent on the wire
_TEXT_RESULT_CHARS = 10_000
_IGNORE = ConfigDict(extra="ignore")


class _Function(BaseModel):
    model_config = _IGNORE
    name: str
    arguments: str | dict[str, JsonValue] | None = None


class _WireToolCall(BaseModel):
    model_config = _IGNORE
    id: str = ""
    function: _Function


class _WireMessage(BaseModel):
    model_config = _IGNORE
    content: str | None = None
    tool_calls: list[_WireToolCall] | None = None


class _Choice(BaseModel):
    model_config = _IGNORE
    message: _WireMessage


class _Usage(BaseModel):
    model_config = _IGNORE
    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)


class _Completion(BaseModel):
    """The parts of a ``chat.completion`` object the loop reads."""

    model_config = _IGNORE
    choices: list[_Choice] = Field(min_length=1)
    usage: _Usage | None = None


class OpenAIToolLoopAgent:
    """A model plus tool endpoints, looped until the model answers without calling a tool."""

    def __init__(self, config: OpenAIAgentConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._api_key: SecretStr | None = None
        if config.api_key_env:
            value = os.environ.get(config.api_key_env)
            if not value:
                raise AgentConfigError(
                    f"environment variable {config.api_key_env} (the model's API key) is not set"
                )
            self._api_key = SecretStr(value)
        self._tools = {t.name: t for t in config.tools}
        self._inventory = load_inventory(config.inventory) if config.inventory else None
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient()

    async def run(self, case: Case, trial: int) -> Trajectory:
        """Play every turn of `case` as one conversation with the model; failures end up on the trajectory."""
        timeout_s = case.timeout_s or self.config.timeout_s
        messages: list[Message] = []
        conversation = (
            Conversation(f"{case.id}#{trial}", case.faults, case.fixtures, self._inventory)
            if case.faults or case.fixtures
            else None
        )
        if self.config.system_prompt:
            messages.append({"role": "system", "content": self.config.system_prompt})

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            messages.append({"role": "user", "content": turn.content})
            for _ in range(self.config.max_tool_rounds):
                message = await self._complete(state, messages, timeout_s)
                messages.append(_assistant_message(message))
                if not message.tool_calls:
                    state.steps.append(AssistantMessage(content=message.content or ""))
                    state.final_answer = message.content or ""
                    return
                for wire_call in message.tool_calls:
                    call = await self._execute(state, wire_call, conversation)
                    state.steps.append(call)
                    messages.append(
                        {"role": "tool", "tool_call_id": wire_call.id, "content": _tool_content(call)}
                    )
            raise AgentError(
                f"the model kept calling tools: no answer after {self.config.max_tool_rounds} rounds "
                "(max_tool_rounds)"
            )

        return await run_trial(case, trial, timeout_s, play)

    async def _complete(self, state: TrialState, messages: list[Message], timeout_s: float) -> _WireMessage:
        """One chat-completions call; its usage and cost are added to the trial."""
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        try:
            document = await post_json(
                self._client,
                url,
                self._request(messages),
                headers=self._headers(),
                timeout_s=timeout_s,
                max_bytes=self.config.max_response_bytes,
                what="model",
            )
        except AgentError as exc:  # a provider may echo the key back in its error body
            raise type(exc)(self._redact(str(exc))) from None
        except httpx.HTTPError as exc:  # what post_json leaves: an undecodable body
            raise AgentReplyError(self._redact(f"model at {url}: {type(exc).__name__}: {exc}")) from None
        if not (isinstance(document, dict) and document.get("choices")):
            keys = sorted(document)[:10] if isinstance(document, dict) else type(document).__name__
            raise AgentReplyError(f"model at {url} answered without choices (top-level keys: {keys})")
        try:
            completion = _Completion.model_validate(document)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(map(str, error["loc"]))
            raise AgentReplyError(
                f"model at {url} sent an unreadable completion: {where}: {error['msg']}"
            ) from None
        usage = completion.usage or _Usage()
        state.input_tokens += usage.prompt_tokens
        state.output_tokens += usage.completion_tokens
        if self.config.price_per_1k_input or self.config.price_per_1k_output:
            cost = usage.prompt_tokens * self.config.price_per_1k_input
            state.add_cost((cost + usage.completion_tokens * self.config.price_per_1k_output) / 1000)
        return completion.choices[0].message

    def _request(self, messages: list[Message]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages}
        if self.config.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
                }
                for t in self.config.tools
            ]
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        return body

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key.get_secret_value(), "***") if self._api_key else text

    async def _execute(
        self, state: TrialState, wire_call: _WireToolCall, conversation: Conversation | None = None
    ) -> ToolCall:
        """Run one of the model's tool calls; a call that cannot run is a failed ToolCall, not an error.

        Calling an escalation tool marks the trial escalated whatever the tool answers: the
        agent chose to hand over (a failed hand-over still shows as a failed tool call).
        """
        name = wire_call.function.name
        try:
            args = _parse_arguments(wire_call.function.arguments)
        except ValueError as exc:
            raw = repr(wire_call.function.arguments)[:200]
            return ToolCall(name=name, error=f"unparseable arguments {raw}: {exc}", observed=True)
        endpoint = self._tools.get(name)
        if endpoint is None:
            known = ", ".join(self._tools) or "none"
            return ToolCall(
                name=name, args=args, error=f"unknown tool {name!r} (tools: {known})", observed=True
            )
        state.escalated = state.escalated or name in self.config.escalation_tools
        if conversation is not None:
            return await self.call_tool_through(conversation, endpoint, args)
        return await self.call_tool(endpoint, args)

    async def call_tool_through(
        self, conversation: Conversation, endpoint: ToolEndpoint, args: dict[str, JsonValue]
    ) -> ToolCall:
        """Execute a call through the fault layer: fixtures answer, faults hit, and the loop sees the
        outcome as it would through the gateway (a timeout is its own endpoint timeout)."""
        started = time.perf_counter()

        async def upstream() -> ToolAnswer:
            return await self._live_answer(endpoint, args)

        try:
            exchange = await conversation.exchange(endpoint.name, args, upstream)
        except UpstreamError as exc:
            return conversation.record(
                endpoint.name, args, None, time.perf_counter() - started, error=str(exc)
            )
        if exchange.delay_s:
            waited = min(exchange.delay_s, endpoint.timeout_s)
            await asyncio.sleep(waited)
            kind = exchange.fault.kind.value if exchange.fault else "slow"
            if exchange.delay_s > endpoint.timeout_s:
                error = f"timed out after {endpoint.timeout_s:g}s ({kind} fault)"
                unanswered = Exchange(None, exchange.fault)
                return conversation.record(
                    endpoint.name, args, unanswered, time.perf_counter() - started, error=error
                )
            if exchange.response is None:  # held less than the endpoint waits: a proxy's 504, as the gateway
                gone = ToolAnswer.of_json(504, {"error": "tool timed out"})
                exchange = Exchange(gone, exchange.fault, error=f"HTTP 504: tool timed out ({kind} fault)")
        sent = None
        if exchange.truncate_at is not None and exchange.response is not None:
            sent = exchange.response.body[: exchange.truncate_at]
        return conversation.record(endpoint.name, args, exchange, time.perf_counter() - started, sent=sent)

    async def _live_answer(self, endpoint: ToolEndpoint, args: dict[str, JsonValue]) -> ToolAnswer:
        """The live tool's answer; UpstreamError when it cannot be had."""
        try:
            async with self._client.stream(
                endpoint.method,
                endpoint.url,
                json=args if endpoint.method == "POST" else None,
                params={k: _query_value(v) for k, v in args.items()} if endpoint.method == "GET" else None,
                timeout=endpoint.timeout_s,
            ) as response:
                body, complete = await _read_capped(response, self.config.max_response_bytes)
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"timed out after {endpoint.timeout_s:g}s ({type(exc).__name__})", True
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from exc
        if not complete:
            raise UpstreamError(f"response larger than {self.config.max_response_bytes:,} bytes")
        return ToolAnswer(response.status_code, body, dict(response.headers))

    async def call_tool(self, endpoint: ToolEndpoint, args: dict[str, JsonValue]) -> ToolCall:
        """Execute one tool call over HTTP and record what happened; never raises for the tool's failure.

        POST sends the arguments as JSON, GET as query parameters. The body is read up to the
        config's max_response_bytes. This is the seam a fault-injection layer wraps.
        """
        started = time.perf_counter()
        status_code: int | None = None
        result: JsonValue = None
        error: str | None = None
        try:
            async with self._client.stream(
                endpoint.method,
                endpoint.url,
                json=args if endpoint.method == "POST" else None,
                params={k: _query_value(v) for k, v in args.items()} if endpoint.method == "GET" else None,
                timeout=endpoint.timeout_s,
            ) as response:
                status_code = response.status_code
                body, complete = await _read_capped(response, self.config.max_response_bytes)
        except httpx.TimeoutException as exc:
            error = f"timed out after {endpoint.timeout_s:g}s ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            if not complete:
                error = f"response larger than {self.config.max_response_bytes:,} bytes"
            else:
                result = _decode(body)
                if status_code >= 400:
                    error = f"HTTP {status_code}: {body[:300].decode('utf-8', 'replace')}"
        latency_s = time.perf_counter() - started
        return ToolCall(
            name=endpoint.name,
            args=args,
            result=result,
            error=error,
            status_code=status_code,
            latency_s=latency_s,
            observed=True,
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this adapter opened it (an injected client stays open)."""
        if self._owns_client:
            await self._client.aclose()


def _parse_arguments(raw: str | dict[str, JsonValue] | None) -> dict[str, JsonValue]:
    """The model's arguments (a JSON string on the wire; some compatible servers send an object)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    args = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(args, dict):
        raise ValueError(f"arguments are a JSON {type(args).__name__}, not an object")
    return args


def _assistant_message(message: _WireMessage) -> Message:
    """The model's message as it goes back into the conversation (arguments as JSON strings)."""
    out: Message = {"role": "assistant", "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {
                    "name": c.function.name,
                    "arguments": c.function.arguments
                    if isinstance(c.function.arguments, str)
                    else json.dumps(c.function.arguments or {}),
                },
            }
            for c in message.tool_calls
        ]
    return out


def _tool_content(call: ToolCall) -> str:
    """What the model is told a tool returned: the result, or ``Error: ...`` (tau-bench style)."""
    if call.error is not None:
        return f"Error: {call.error}"
    return call.result if isinstance(call.result, str) else json.dumps(call.result)


def _query_value(value: JsonValue) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    """The body if it fits in `max_bytes`; the flag says whether it did."""
    try:
        return await read_capped(
            response.aiter_bytes(), max_bytes, response.headers.get("content-length")
        ), True
    except BodyTooLarge:
        return b"", False


def _decode(body: bytes) -> JsonValue:
    """A tool's body as JSON when it is JSON, else as (bounded) text."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body[:_TEXT_RESULT_CHARS].decode("utf-8", "replace")
