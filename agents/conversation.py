"""One conversation's tool traffic as trailcheck sees it: fixtures, faults, and the calls it recorded.

The gateway keeps one per session id; the OpenAI tool loop one per trial. A call goes:
fixture (when the case has fixtures) or the live tool, then the fault layer, then the record.
"""

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from pydantic import JsonValue

from trailcheck.agents.faults import Faulted, FaultPlan, ToolAnswer, apply_fault
from trailcheck.agents.fixtures import FixtureBook, fixture_response
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models import FaultRecord, FaultSpec, ToolCall, ToolFixture

Upstream = Callable[[], Awaitable[ToolAnswer]]


class UpstreamError(Exception):
    """The live tool could not be reached or did not answer in time."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


@dataclass(frozen=True)
class Exchange:
    """What a call gets: the answer to deliver (None: no answer), and how (see `Faulted`)."""

    response: ToolAnswer | None
    fault: FaultRecord | None = None
    delay_s: float = 0.0
    truncate_at: int | None = None
    error: str | None = None


class Conversation:
    """The tool calls of one conversation.

    `key` identifies the conversation repeatably (``case_id#trial``): it seeds the faults, so a
    replay hits the same calls. With fixtures the conversation is offline: a call no fixture
    answers gets a 404 naming the call, and never reaches the live tool (a case promoted from
    production must not refund real orders when it is replayed).
    `inventory`: the integration inventory, whose contracts the schema_break fault breaks.
    """

    def __init__(
        self,
        key: str,
        faults: Sequence[FaultSpec] = (),
        fixtures: Sequence[ToolFixture] = (),
        inventory: LoadedInventory | None = None,
    ) -> None:
        self.key = key
        self.inventory = inventory
        self.plan = FaultPlan(faults, key)
        self.book = FixtureBook(fixtures)
        self.calls: list[ToolCall] = []

    async def exchange(
        self,
        tool: str,
        args: dict[str, JsonValue],
        upstream: Upstream,
        schema: dict[str, JsonValue] | None = None,
    ) -> Exchange:
        """Answer one call of `tool`; UpstreamError when the live tool is needed and fails."""
        hit = self.plan.pick(tool)
        if hit is not None and not hit.needs_upstream:
            return _from(apply_fault(hit, None, schema, self.inventory))
        response, error = await self._answer(tool, args, upstream)
        if hit is None:
            return Exchange(response, error=error or _error_of(response))
        return _from(apply_fault(hit, response, schema, self.inventory))

    async def _answer(
        self, tool: str, args: dict[str, JsonValue], upstream: Upstream
    ) -> tuple[ToolAnswer, str | None]:
        if not self.book:
            return await upstream(), None
        fixture = self.book.answer(tool, args)
        if fixture is None:
            message = (
                f"trailcheck: no fixture answers {tool}({json.dumps(args, sort_keys=True)}); "
                "a case with fixtures is replayed offline and never calls the live tools"
            )
            return ToolAnswer.of_json(404, {"error": message}), message
        return fixture_response(fixture), fixture.error

    def record(
        self,
        tool: str,
        args: dict[str, JsonValue],
        exchange: Exchange | None,
        latency_s: float,
        *,
        sent: bytes | None = None,
        error: str | None = None,
    ) -> ToolCall:
        """Record a finished call: what the caller received (`sent`, default the whole answer)."""
        response = exchange.response if exchange else None
        body = sent if sent is not None else response.body if response else None
        result = ToolAnswer(response.status, body).json() if response and body else None
        call = ToolCall(
            name=tool,
            args=args,
            result=result,
            error=error or (exchange.error if exchange else None),
            status_code=response.status if response else None,
            latency_s=round(latency_s, 6),
            observed=True,
            fault=exchange.fault if exchange else None,
        )
        self.calls.append(call)
        return call


def _from(faulted: Faulted) -> Exchange:
    error = faulted.error
    if error is None and faulted.response is not None:
        error = _error_of(faulted.response)
    if error is not None:
        error = f"{error} ({faulted.record.kind.value} fault)"
    return Exchange(faulted.response, faulted.record, faulted.delay_s, faulted.truncate_at, error)


def _error_of(response: ToolAnswer) -> str | None:
    """The error a tool's answer reports: its ``error`` field, or the status, when the status is >= 400."""
    if response.status < 400:
        return None
    document = response.json()
    detail = document.get("error") if isinstance(document, dict) else None
    return f"HTTP {response.status}: {detail}" if detail else f"HTTP {response.status}"
