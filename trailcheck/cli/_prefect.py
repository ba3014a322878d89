"""The Prefect API a command's flow runs against: a set PREFECT_API_URL, else the warm local server.

`warm_up()` starts finding (or starting) the warm server on a thread as soon as a command knows it
will run a flow, so the server's boot overlaps the flow's imports; `prefect_api()` waits for it.
"""

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from trailcheck import prefect_server
from trailcheck.cli._support import unavailable

HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"


class _Warmup:
    def __init__(self) -> None:
        self.state: prefect_server.ServerState | None = None
        self.error: prefect_server.PrefectServerError | None = None
        self._thread = threading.Thread(target=self._run, name="trailcheck-warm-server", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.state = prefect_server.ensure()
        except prefect_server.PrefectServerError as exc:
            self.error = exc

    def result(self) -> prefect_server.ServerState:
        self._thread.join()
        if self.error is not None:
            raise unavailable(str(self.error))
        assert self.state is not None
        return self.state


_warmup: _Warmup | None = None
# Set once a command of this process ran against the warm local server: the launcher then starts
# the warm runner for the commands that follow (trailcheck/cli/warm_runner.py).
used_warm_server = False


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment, a Prefect profile or a test harness's settings."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def start_warm_server() -> None:
    """Start finding (or starting) the warm server now, before Prefect's configuration is read.

    For a command that will run a flow in a home that has run a warm server before, with no
    PREFECT_API_URL in the environment: the server's boot then overlaps every import. Should a
    Prefect profile name another API after all, `prefect_api()` uses that one.
    """
    global _warmup
    if _warmup is None:
        _warmup = _Warmup()


def warm_up() -> None:
    """Start looking for the warm server in the background, unless a Prefect API is configured."""
    global _warmup
    if _warmup is None and configured_api_url() is None:
        _warmup = _Warmup()


@contextmanager
def prefect_api() -> Iterator[None]:
    """Run the block against the configured Prefect API, or the warm local server."""
    global _warmup, used_warm_server
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_UI_URL,
        temporary_settings,
    )

    # The CLI watches its own flow to the end; heartbeats (for crash detection of unattended runs)
    # would only hold its exit up to a second while the heartbeat thread wakes. Set the variable
    # to keep them.
    updates: dict[Any, Any] = {}
    if HEARTBEAT_ENV not in os.environ:
        updates[PREFECT_FLOWS_HEARTBEAT_FREQUENCY] = None
    configured = configured_api_url()
    if configured is not None:
        _check_reachable(configured)
    else:
        warm_up()
        assert _warmup is not None
        try:
            state = _warmup.result()
        finally:
            _warmup = None
        updates |= {PREFECT_API_URL: state.api_url, PREFECT_UI_URL: state.ui_url}
        used_warm_server = True
    with temporary_settings(updates=updates):
        yield


def _check_reachable(api_url: str) -> None:
    import httpx

    try:
        # Only a transport failure counts: a hosted API may answer /health with 401 or 404.
        httpx.get(f"{api_url.rstrip('/')}/health", timeout=10)
    except httpx.TransportError as exc:
        reason = str(exc) or type(exc).__name__
        raise unavailable(
            f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer: {reason}; "
            "start that server, or unset PREFECT_API_URL to use trailcheck's local one"
        ) from None
