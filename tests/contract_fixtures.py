"""Shared pieces of the contract tests: the reference inventory, real tool responses, a breaking proxy.

The breaking proxy stands where the tool gateway will: it forwards the reference agent's tool calls
to the real tools service over HTTP and, for one tool, returns a response altered by
`break_response` (the gateway's "schema-breaking response" fault).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from trailcheck.agents.reference.tools_app import create_tools_app
from trailcheck.loading.inventory import LoadedInventory, load_inventory
from trailcheck.models.contract import ToolResponse
from trailcheck.serving import serve_in_thread
from trailcheck.variants.contract_break import break_response

INVENTORY = Path(__file__).resolve().parents[1] / "agents" / "reference" / "contracts" / "tools.yaml"

# Calls that exercise every tool of the reference service and every kind of order.
REFERENCE_CALLS: list[tuple[str, str, str, dict | None]] = [
    *[
        ("lookup_order", "GET", f"/orders/{oid}", None)
        for oid in ("A1001", "A1002", "A1003", "A1004", "A1005")
    ],
    *[("lookup_account", "GET", f"/accounts/{cid}", None) for cid in ("C100", "C200")],
    ("issue_refund", "POST", "/refunds", {"order_id": "A1001", "amount": 10.0, "reason": "broken"}),
    ("issue_refund", "POST", "/refunds", {"order_id": "A1004"}),
    ("create_ticket", "POST", "/tickets", {"summary": "customer asked for a human", "customer_id": "C100"}),
    ("create_ticket", "POST", "/tickets", {"summary": "refund failed"}),
]


def reference_inventory() -> LoadedInventory:
    return load_inventory(INVENTORY)


def record_reference_responses() -> list[ToolResponse]:
    """Real responses of the reference tools, fetched over HTTP from a freshly started tools service."""
    recorded = []
    with serve_in_thread(create_tools_app()) as base, httpx.Client(base_url=base, timeout=5) as client:
        for i, (tool, method, path, body) in enumerate(REFERENCE_CALLS):
            response = client.request(method, path, json=body)
            assert response.status_code == 200, (tool, response.text)
            recorded.append(
                ToolResponse(tool=tool, response=response.json(), source=f"call {i} {method} {path}")
            )
    return recorded


def breaking_proxy_app(
    tools_base_url: str, loaded: LoadedInventory, tool: str, kinds: set[str], seed: int
) -> FastAPI:
    """Forwards every request to the tools service; breaks the successful responses of `tool`."""
    app = FastAPI()
    spec = loaded.tool(tool)
    assert spec is not None

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def forward(path: str, request: Request) -> JSONResponse:
        async with httpx.AsyncClient(base_url=tools_base_url, timeout=5) as client:
            upstream = await client.request(request.method, f"/{path}", content=await request.body(),
                                            headers={"content-type": "application/json"})  # fmt: skip
        body = upstream.json()
        routed = loaded.inventory.tool_for_route(request.method, f"/{path}")
        if upstream.is_success and routed is not None and routed[0].name == tool:
            body = break_response(tool, body, loaded.suites[tool], spec.response_schema, seed, kinds).response
        return JSONResponse(status_code=upstream.status_code, content=body)

    return app


@contextmanager
def tools_with_broken(tool: str, kinds: set[str], seed: int = 0) -> Iterator[str]:
    """The real tools service behind a proxy that breaks `tool`'s responses; yields the proxy's URL."""
    loaded = reference_inventory()
    with (
        serve_in_thread(create_tools_app()) as tools_base,
        serve_in_thread(breaking_proxy_app(tools_base, loaded, tool, kinds, seed)) as proxy,
    ):
        yield proxy
