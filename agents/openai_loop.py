"""trailcheck drives an OpenAI-compatible chat-completions model and runs its tool calls itself.

Because trailcheck executes every tool call against the configured endpoint, the trajectory
records what was observed (arguments sent, status, body, latency), not what the model claims.
A tool's failure is the tool's, not the agent's: it is recorded on the ToolCall and fed back
to the model as ``Error: ...`` (the tau-bench convention); only the model endpoint failing, or
the loop not finishing within `max_tool_rounds`, errors the trial. The API key is held as a
SecretStr and never appears in errors or trajectories.
"""

import json
import os
import time
from typing import Any

import httpx
from pydantic import JsonValue, SecretStr

from agents._http import post_json
from agents._trial import TrialState, run_trial
from agents.config import AgentConfigError, OpenAIAgentConfig, ToolEndpoint
from agents.errors import AgentError, AgentReplyError
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, Turn, UserMessage


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
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}

    def _request(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages}
        if self._tools:
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

    async def _complete(self, state: TrialState, messages: list[dict[str, Any]]) -> dict[str, Any]:
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        reply = await post_json(
            self._client,
            url,
            self._request(messages),
            headers=self._headers(),
            timeout_s=self.config.timeout_s,
            max_bytes=self.config.max_response_bytes,
            what="model",
        )
        try:
            message = reply["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            raise AgentReplyError(f"model at {url} answered without choices[0].message") from None
        usage = reply.get("usage") or {}
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        state.input_tokens += prompt
        state.output_tokens += completion
        state.add_cost(
            (prompt * self.config.price_per_1k_input + completion * self.config.price_per_1k_output) / 1000
        )
        return message

    async def call_tool(self, endpoint: ToolEndpoint, args: dict[str, JsonValue]) -> ToolCall:
        """Execute one tool call over HTTP and record what happened (the seam for fault injection)."""
        started = time.perf_counter()
        call = ToolCall(name=endpoint.name, args=args, observed=True)
        try:
            if endpoint.method == "GET":
                params = {k: str(v) for k, v in args.items()}
                response = await self._client.get(endpoint.url, params=params, timeout=endpoint.timeout_s)
            else:
                response = await self._client.post(endpoint.url, json=args, timeout=endpoint.timeout_s)
        except httpx.HTTPError as exc:
            call.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            call.latency_s = time.perf_counter() - started
            return call
        call.latency_s = time.perf_counter() - started
        call.status_code = response.status_code
        try:
            call.result = response.json()
        except ValueError:
            call.result = response.text[:10_000]
        if response.status_code >= 400:
            call.error = f"HTTP {response.status_code}: {response.text[:300]}"
        return call

    async def _run_tool_calls(
        self, state: TrialState, raw_calls: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Execute the model's tool calls; returns the tool messages to send back."""
        replies = []
        for raw in raw_calls:
            function = raw.get("function") or {}
            name = str(function.get("name"))
            try:
                args = json.loads(function.get("arguments") or "{}")
                if not isinstance(args, dict):
                    raise ValueError("arguments are not a JSON object")
            except ValueError as exc:
                call = ToolCall(
                    name=name, error=f"unparseable arguments {function.get('arguments')!r}: {exc}"
                )
            else:
                endpoint = self._tools.get(name)
                call = (
                    await self.call_tool(endpoint, args)
                    if endpoint
                    else ToolCall(name=name, args=args, error=f"unknown tool {name!r}", observed=True)
                )
            state.steps.append(call)
            state.escalated = state.escalated or (name in self.config.escalation_tools and not call.failed)
            content = f"Error: {call.error}" if call.error else json.dumps(call.result)
            replies.append({"role": "tool", "tool_call_id": raw.get("id"), "content": content})
        return replies

    async def run(self, case: Case, trial: int) -> Trajectory:
        messages: list[dict[str, Any]] = []
        if self.config.system_prompt:
            messages.append({"role": "system", "content": self.config.system_prompt})

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            messages.append({"role": "user", "content": turn.content})
            for _ in range(self.config.max_tool_rounds):
                message = await self._complete(state, messages)
                raw_calls = message.get("tool_calls") or []
                messages.append({k: v for k, v in message.items() if k in ("role", "content", "tool_calls")})
                if not raw_calls:
                    text = message.get("content") or ""
                    state.steps.append(AssistantMessage(content=text))
                    state.final_answer = text
                    return
                messages.extend(await self._run_tool_calls(state, raw_calls))
            raise AgentError(f"the model kept calling tools after {self.config.max_tool_rounds} rounds")

        return await run_trial(case, trial, case.timeout_s or self.config.timeout_s, play)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
