"""The tool gateway: trailcheck's proxy between an agent and its tools (records calls, injects faults).

`serve_gateway` starts one on 127.0.0.1 for the duration of a block; `GatewayLink` is the adapter's
side of its control API. See agents/gateway/app.py for how it works.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from trailcheck.agents.gateway.app import SESSION_HEADER, Gateway
from trailcheck.agents.gateway.link import GatewayLink
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models import ToolRoute
from trailcheck.serving import serve_in_thread


class _QuietTruncation(logging.Filter):
    # The truncated_body fault ends a response on purpose; uvicorn would log it as an app bug.
    def filter(self, record: logging.LogRecord) -> bool:
        return "without completing response" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietTruncation())


@dataclass(frozen=True)
class RunningGateway:
    """Where a running gateway listens, and the app (its sessions and counters) for inspection."""

    url: str
    app: Gateway


@contextmanager
def serve_gateway(
    upstream: str | None,
    routes: list[ToolRoute] | None = None,
    port: int = 0,
    session_header: str = SESSION_HEADER,
    inventory: LoadedInventory | None = None,
) -> Iterator[RunningGateway]:
    """Run a gateway in front of `upstream` (None: fixtures only) on 127.0.0.1:`port` (0: a free one).

    `inventory`: the integration inventory (routes, and contracts for the schema_break fault).
    """
    app = Gateway(upstream, routes, session_header, inventory=inventory)
    with serve_in_thread(app, port=port, lifespan="on") as url:
        yield RunningGateway(url, app)


__all__ = ["SESSION_HEADER", "Gateway", "GatewayLink", "RunningGateway", "serve_gateway"]
