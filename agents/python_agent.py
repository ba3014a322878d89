"""An agent that is a Python callable: ``f(AgentRequest) -> AgentReply | dict``, sync or async."""

import importlib
import inspect
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import ValidationError

from agents._trial import TrialState, run_trial
from agents.config import AgentConfigError, PythonAgentConfig
from agents.errors import AgentError, AgentReplyError
from agents.protocol import AgentReply, AgentRequest
from trailcheck.models import AssistantMessage, Case, ToolCall, Trajectory, Turn, UserMessage


def import_callable(target: str) -> Callable[..., Any]:
    """Import ``package.module:function``; AgentConfigError says what is wrong."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AgentConfigError(f"python agent {target!r}: cannot import {module_name!r}: {exc}") from exc
    function = getattr(module, attr, None)
    if not callable(function):
        raise AgentConfigError(f"python agent {target!r}: {module_name} has no callable {attr!r}")
    return function


class PythonAgent:
    """Calls the function once per user turn with the conversation's session id and the case context."""

    def __init__(self, config: PythonAgentConfig) -> None:
        self.config = config
        self._function = import_callable(config.target)

    async def _call(self, request: AgentRequest) -> Any:
        if inspect.iscoroutinefunction(self._function):
            return await self._function(request)
        return await anyio.to_thread.run_sync(self._function, request, abandon_on_cancel=True)

    async def run(self, case: Case, trial: int) -> Trajectory:
        session_id = f"{case.id}#{trial}-{uuid.uuid4().hex[:8]}"

        async def play(state: TrialState, turn: Turn) -> None:
            state.steps.append(UserMessage(content=turn.content))
            request = AgentRequest(session_id=session_id, message=turn.content, context=case.context)
            try:
                raw = await self._call(request)
            except Exception as exc:  # the agent's own bug is the trial's error, not the run's
                raise AgentError(
                    f"python agent {self.config.target} raised {type(exc).__name__}: {exc}"
                ) from exc
            try:
                reply = raw if isinstance(raw, AgentReply) else AgentReply.model_validate(raw)
            except ValidationError as exc:
                raise AgentReplyError(
                    f"python agent {self.config.target} returned an unusable reply: {exc}"
                ) from exc
            state.steps += [ToolCall(**c.model_dump(), observed=False) for c in reply.tool_calls]
            state.steps.append(AssistantMessage(content=reply.reply))
            state.final_answer = reply.reply
            state.escalated = state.escalated or reply.escalated
            state.input_tokens += reply.usage.input_tokens
            state.output_tokens += reply.usage.output_tokens
            state.add_cost(reply.cost_usd)

        return await run_trial(case, trial, case.timeout_s or self.config.timeout_s, play)

    async def aclose(self) -> None:
        """Nothing to release."""
