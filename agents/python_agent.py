"""An agent that is a Python callable: ``f(AgentRequest) -> AgentReply | dict``, sync or async.

Useful for agents that live in the same codebase as their tests: no server to start. A sync
callable runs in a worker thread so it cannot block the other trials in flight.
"""

import importlib
import inspect
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import ValidationError

from trailcheck.agents._mapping import new_session_id, record_reply
from trailcheck.agents._trial import TrialState, run_trial
from trailcheck.agents.config import AgentConfigError, PythonAgentConfig
from trailcheck.agents.errors import AgentError, AgentReplyError
from trailcheck.agents.protocol import AgentReply, AgentRequest
from trailcheck.models import Case, Trajectory, Turn, UserMessage


def import_callable(target: str) -> Callable[..., Any]:
    """Import ``package.module:function``; AgentConfigError says what is wrong, before any trial runs."""
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # not found, or the module itself fails while importing
        raise AgentConfigError(
            f"python agent {target!r}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if not hasattr(module, attr):
        raise AgentConfigError(f"python agent {target!r}: module {module_name!r} has no callable {attr!r}")
    function = getattr(module, attr)
    if not callable(function):
        raise AgentConfigError(
            f"python agent {target!r}: {attr!r} is not callable (type {type(function).__name__})"
        )
    return function


def _is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        getattr(function, "__call__", None)  # noqa: B004 - an instance with `async def __call__`
    )


class PythonAgent:
    """Calls the function once per user turn with the trial's session id and the case context."""

    def __init__(self, config: PythonAgentConfig) -> None:
        self.config = config
        self._function = import_callable(config.target)

    async def _call(self, request: AgentRequest) -> object:
        if _is_async(self._function):
            return await self._function(request)
        result = await anyio.to_thread.run_sync(self._function, request, abandon_on_cancel=True)
        if inspect.isawaitable(result):  # e.g. functools.partial of an async function
            result = await result
        return result

    async def run(self, case: Case, trial: int) -> Trajectory:
        """Play every turn of `case`; an exception from the callable errors the trial, not the run."""
        session_id = new_session_id(case.id, trial)

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
                    f"python agent {self.config.target} returned an unusable reply "
                    f"({type(raw).__name__}): {_first_problem(exc)}"
                ) from exc
            record_reply(state, reply)

        return await run_trial(case, trial, case.timeout_s or self.config.timeout_s, play, session_id)

    async def aclose(self) -> None:
        """Nothing to release: the callable is not ours to shut down."""


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(map(str, error["loc"]))
    return f"{where}: {error['msg']}" if where else error["msg"]
