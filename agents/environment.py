"""Reading and resetting the environment an agent acts on (a suite's `environment`).

A reset hook runs before each trial of a case with an environment, and its probes are read after
the conversation; what they read lands on the trajectory (`state`, or `state_errors` for a probe
that could not run), where the `state` check judges it. HTTP goes through httpx, SQL through
SQLAlchemy (in a worker thread), a Python callable is imported and called (awaited if async).
A probe may name the trial (``{session_id}``, ``{case_id}``, ``{trial}``: URL-encoded in a URL,
bound parameters ``:session_id`` ... in SQL) to read only what that conversation did.

With a reset hook, the trials hold one process-wide slot while they reset, converse and read, so
two trials never share the environment mid-conversation; a Dask cluster of several processes
needs one environment per worker, or probes scoped to the session instead of a reset.
"""

import importlib
import inspect
import os
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import anyio
import httpx
from pydantic import JsonValue, TypeAdapter
from sqlalchemy import create_engine, text

from trailcheck.db.engine import database_url
from trailcheck.models import Environment, Probe, ResetHook, Trajectory

_SLOT = threading.Lock()
_JSON: TypeAdapter[JsonValue] = TypeAdapter(JsonValue)
TIMEOUT_S = 10.0


class ProbeError(Exception):
    """A probe or reset hook that could not run; the message says which and why."""


class ProbeUnavailable(ProbeError):
    """A probe this agent cannot serve (no {tools_url} known): the state check is skipped, not errored."""


@asynccontextmanager
async def environment_slot() -> AsyncIterator[None]:
    """Hold the process-wide environment slot (waiting in a worker thread, not blocking the loop)."""
    await anyio.to_thread.run_sync(_SLOT.acquire)
    try:
        yield
    finally:
        _SLOT.release()


def _placeholders(trajectory: Trajectory | None) -> dict[str, str]:
    if trajectory is None:
        return {}
    return {
        "session_id": trajectory.session_id or "",
        "case_id": trajectory.case_id,
        "trial": str(trajectory.trial),
    }


def _expand_url(template: str, tools_url: str | None, values: dict[str, str]) -> str:
    if "{tools_url}" in template:
        if not tools_url:
            raise ProbeUnavailable(
                "{tools_url} is unknown for this agent; give the URL, or set the agent's tools_url"
            )
        template = template.replace("{tools_url}", tools_url.rstrip("/"))
    for name, value in values.items():
        template = template.replace("{" + name + "}", quote(value, safe=""))
    return os.path.expandvars(template)


async def _call(target: str) -> Any:
    module_name, _, name = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ProbeError(f"cannot import {target}: {exc}") from None
    outcome = fn()
    return await outcome if inspect.isawaitable(outcome) else outcome


def _sql(url: str, statement: str, values: dict[str, str], read: bool) -> Any:
    # The trial's values go in as bound parameters (:session_id, :case_id, :trial), never as text.
    bound = {k: v for k, v in values.items() if re.search(rf":{k}\b", statement)}
    # database_url(): a bare postgresql:// URL gets psycopg 3, the driver installed (SQLAlchemy 2.0 would
    # pick psycopg2).
    engine = create_engine(database_url(url))
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), bound)
            return [dict(row._mapping) for row in result] if read and result.returns_rows else None
    finally:
        engine.dispose()


async def _run(
    source: Probe | ResetHook, tools_url: str | None, trajectory: Trajectory | None, read: bool
) -> Any:
    values = _placeholders(trajectory)
    if source.python is not None:
        return await _call(source.python)
    if source.sql is not None and source.url is not None:
        url = os.path.expandvars(source.url)
        return await anyio.to_thread.run_sync(_sql, url, source.sql, values, read)
    url = _expand_url(source.http or "", tools_url, values)
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
        response = await (client.get(url) if read else client.post(url))
    if response.status_code >= 400:
        raise ProbeError(f"{'GET' if read else 'POST'} {url} answered HTTP {response.status_code}")
    return response.json() if read and response.content else None


async def reset(environment: Environment, tools_url: str | None) -> str | None:
    """Run the reset hook, if any; the reason it failed, or None."""
    if environment.reset is None:
        return None
    try:
        await _run(environment.reset, tools_url, None, read=False)
    except ProbeUnavailable:
        return None  # its probes will say they were skipped
    except Exception as exc:  # the environment's failure is the trial's data, not the run's end
        return f"reset failed: {_reason(exc)}"
    return None


async def read_state(
    trajectory: Trajectory, environment: Environment, names: set[str], tools_url: str | None
) -> Trajectory:
    """The trajectory with what the probes `names` read (or why they could not) recorded on it."""
    state: dict[str, JsonValue] = {}
    errors: dict[str, str] = dict(trajectory.state_errors)
    skipped: dict[str, str] = {}
    for name in sorted(names):
        try:
            state[name] = _JSON.validate_python(
                await _run(environment.probes[name], tools_url, trajectory, read=True)
            )
        except ProbeUnavailable as exc:
            skipped[name] = str(exc)
        except Exception as exc:  # recorded: the state check reports it as errored, never as passed
            errors[name] = _reason(exc)
    return trajectory.model_copy(update={"state": state, "state_errors": errors, "state_skipped": skipped})


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ProbeError) else f"{type(exc).__name__}: {exc}"
