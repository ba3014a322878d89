"""The gateway with agents it does not know: calls it cannot attribute, typed route parameters,
and schema_break where the tool has no response schema."""

from collections.abc import Iterator

import anyio
import httpx
import pytest
from fastapi import FastAPI

from trailcheck.agents.fault_matrix import CleanReplay, expand, fields_used, schema_break_skipped
from trailcheck.agents.faults import break_field
from trailcheck.agents.gateway import GatewayLink, serve_gateway
from trailcheck.models import (
    AssistantMessage,
    Case,
    FaultKind,
    Suite,
    ToolCall,
    ToolRoute,
    Trajectory,
    UserMessage,
)
from trailcheck.models.tool_route import typed_value
from trailcheck.serving import serve_in_thread

tools = FastAPI()


@tools.get("/orders")
def orders(limit: int = 10, express: bool = False) -> dict[str, object]:
    return {"orders": [{"order_id": "A1001", "status": "shipped"}][:limit], "express": express}


ROUTE = ToolRoute(
    tool="list_orders",
    method="GET",
    path="/orders",
    parameters={
        "type": "object",
        "properties": {
            "limit": {"type": "integer"},
            "express": {"type": "boolean"},
            "ids": {"type": "array", "items": {"type": "integer"}},
            "note": {"type": "string"},
            "ratio": {"type": ["number", "null"]},
        },
    },
)


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with serve_in_thread(tools) as url:
        yield url


@pytest.mark.parametrize(
    ("value", "schema", "typed"),
    [
        ("2", {"type": "integer"}, 2),
        ("2.5", {"type": "integer"}, "2.5"),  # not lossless: kept as sent
        ("2.5", {"type": "number"}, 2.5),
        ("true", {"type": "boolean"}, True),
        ("yes", {"type": "boolean"}, "yes"),
        (["1", "2"], {"type": "array", "items": {"type": "integer"}}, [1, 2]),
        ("7", {"type": "array", "items": {"type": "integer"}}, [7]),
        ("007", {"type": "string"}, "007"),
        ("", {"type": ["number", "null"]}, None),
        ("3", None, "3"),
    ],
)
def test_wire_values_typed_by_the_parameter_schema(value: object, schema: object, typed: object) -> None:
    assert typed_value(value, schema) == typed  # type: ignore[arg-type]


def test_query_parameters_recorded_with_their_schema_types(upstream: str) -> None:
    case = Case(id="c", turns=["hi"])
    with serve_gateway(upstream, [ROUTE]) as gateway, httpx.Client() as client:
        link_client = httpx.AsyncClient()

        async def calls() -> list[ToolCall]:
            link = GatewayLink(gateway.url, link_client)
            await link.open("s1", case, 0)
            await anyio.to_thread.run_sync(
                lambda: client.get(
                    f"{gateway.url}/orders",
                    params=[("limit", "1"), ("express", "true"), ("ids", "4"), ("ids", "5"), ("note", "7")],
                    headers={"X-Session-Id": "s1"},
                )
            )
            recorded = await link.close("s1")
            await link_client.aclose()
            return recorded

        [call] = anyio.run(calls)
    assert call.name == "list_orders"
    assert call.args == {"limit": 1, "express": True, "ids": [4, 5], "note": "7"}
    assert call.result["express"] is True  # type: ignore[index]


def test_calls_without_the_session_header_are_counted_and_reported(upstream: str) -> None:
    with serve_gateway(upstream, [ROUTE]) as gateway:

        async def traffic() -> tuple[list[ToolCall], list[ToolCall]]:
            async with httpx.AsyncClient() as client:
                link = GatewayLink(gateway.url, client)
                await link.open("a", Case(id="a", turns=["x"]), 0)
                # One conversation open: a call without the header is its.
                await client.get(f"{gateway.url}/orders")
                await link.open("b", Case(id="b", turns=["x"]), 0)
                # Two open: these belong to neither, and must not vanish without a word.
                for _ in range(3):
                    await client.get(f"{gateway.url}/orders")
                await client.get(f"{gateway.url}/orders", headers={"X-Session-Id": "never-opened"})
                await client.get(f"{gateway.url}/orders", headers={"X-Session-Id": "b"})
                health = (await client.get(f"{gateway.url}/_trailcheck/health")).json()
                assert health["without_session"] == 3 and health["unknown_session"] == 1
                return await link.close("a"), await link.close("b")

        a, b = anyio.run(traffic)
        warnings = gateway.app.warnings()
    assert len(a) == 1 and len(b) == 1
    assert warnings[0].startswith("3 tool call(s) had no X-Session-Id header")
    assert "or run with --concurrency 1" in warnings[0]
    assert warnings[1].startswith("1 tool call(s) carried a X-Session-Id that names no conversation")


def _trajectory(result: object, reply: str) -> Trajectory:
    return Trajectory(
        case_id="c",
        trial=0,
        steps=[
            UserMessage(content="Where is A1001?"),
            ToolCall(name="lookup_order", args={"order_id": "A1001"}, result=result, observed=True),
            AssistantMessage(content=reply),
        ],
        final_answer=reply,
    )


def test_fields_used_are_those_whose_values_come_back() -> None:
    answer = {"order_id": "A1001", "status": "shipped", "eta": "2026-12-09", "ok": True, "count": 1}
    used = fields_used(_trajectory(answer, "A1001 is shipped."))
    assert used == {"lookup_order": ["order_id", "status"]}  # not eta (unsaid), not ok/count (too plain)
    assert fields_used(_trajectory([answer], "It is shipped.")) == {"lookup_order": ["status"]}


def test_schema_break_breaks_a_used_field_or_is_left_out_with_a_note() -> None:
    suite = Suite(
        name="s",
        cases=[Case(id="status", turns=["x"]), Case(id="quiet", turns=["y"])],
    )
    found = CleanReplay(
        tools={"status": ["lookup_order"], "quiet": ["lookup_order"]},
        used={("status", "lookup_order"): ["status"]},
    )
    fields = found.schema_fields(with_schema=set())
    assert fields == {("status", "lookup_order"): "status", ("quiet", "lookup_order"): None}
    matrix = expand(suite, found.tools, [FaultKind.SCHEMA_BREAK, FaultKind.HTTP_500], fields)
    ids = [c.id for c in matrix.cases]
    assert ids == [
        "status:lookup_order:schema_break",
        "status:lookup_order:http_500",
        "quiet:lookup_order:http_500",
    ]
    assert matrix.case("status:lookup_order:schema_break").faults[0].schema_field == "status"
    [note] = schema_break_skipped([FaultKind.SCHEMA_BREAK], fields)
    assert "quiet" in note and "response_schema" in note
    # A tool with a schema is left to it.
    assert found.schema_fields(with_schema={"lookup_order"}) == {}


def test_break_field_changes_the_type_of_that_field() -> None:
    broken, detail = break_field({"order_id": "A1001", "status": "shipped"}, "status")
    assert broken == {"order_id": "A1001", "status": 12345} and detail == "status: type -> 12345"
    broken, detail = break_field([{"status": "shipped"}, {"status": "x"}], "status")
    assert broken == [{"status": 12345}, {"status": "x"}] and detail.startswith("[0].")
