"""The fault layer: which tool call a fault hits, and what the faulted answer is.

Both places where trailcheck sits between an agent and its tools use it: the tool gateway
(an HTTP proxy, agents/gateway/) and the OpenAI-compatible tool loop (agents/openai_loop.py),
which calls tools itself. Neither knows how a fault is made; they ask `FaultPlan.pick` whether a
call is hit and `apply_fault` for the answer to deliver instead.

Everything random is seeded from the fault's seed and the conversation's key (case id and
trial), so a replay injects the same faults at the same calls every time.
"""

import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models import FaultKind, FaultRecord, FaultSpec
from trailcheck.models.canary import MARKER_PREFIX
from trailcheck.models.tool_failure import EMPTY_RESULT, SCHEMA_BROKEN
from trailcheck.variants.contract_break import NoBreakFound, break_tool_response

DEFAULT_SLOW_S = 1.0
DEFAULT_HOLD_S = 30.0
JSON_TYPE = "application/json"

_STATUS = {
    FaultKind.HTTP_500: (500, "internal server error"),
    FaultKind.HTTP_503: (503, "service unavailable"),
    FaultKind.HTTP_429: (429, "rate limit exceeded"),
    FaultKind.HTTP_401: (401, "authentication required"),
    FaultKind.HTTP_403: (403, "forbidden"),
}


@dataclass(frozen=True)
class ToolAnswer:
    """A tool's HTTP answer, as bytes (the upstream's, a fixture's or a fault's)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=lambda: {"content-type": JSON_TYPE})

    @classmethod
    def of_json(cls, status: int, document: JsonValue, headers: dict[str, str] | None = None) -> "ToolAnswer":
        """A JSON answer."""
        return cls(status, json.dumps(document).encode(), {"content-type": JSON_TYPE, **(headers or {})})

    def json(self) -> JsonValue:
        """The body as JSON, or as text when it is not JSON."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return self.body[:10_000].decode("utf-8", "replace")


@dataclass(frozen=True)
class Hit:
    """A fault that hits one call: the spec, the call's number for its tool, and its seeded randomness."""

    spec: FaultSpec
    tool: str
    call_number: int
    conversation: str

    def rng(self) -> random.Random:
        """Randomness that depends only on the fault's seed, the conversation and the call."""
        return random.Random(f"{self.spec.seed}:{self.conversation}:{self.tool}:{self.call_number}")

    def canary(self) -> str:
        """A marker unique to this call, repeatable across replays."""
        seed = f"{self.spec.seed}:{self.conversation}:{self.tool}:{self.call_number}"
        return MARKER_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:12]

    @property
    def needs_upstream(self) -> bool:
        """Whether the fault changes the real answer (else it replaces it without calling the tool)."""
        return self.spec.kind not in (*_STATUS, FaultKind.TIMEOUT)


class FaultPlan:
    """The faults of one conversation, and the tool calls counted so far to trigger them."""

    def __init__(self, faults: Sequence[FaultSpec], conversation: str) -> None:
        self.faults = list(faults)
        self.conversation = conversation
        self._calls: Counter[str] = Counter()
        self._all_calls = 0

    def pick(self, tool: str) -> Hit | None:
        """Count a call of `tool` and return the first fault that hits it, if any."""
        self._calls[tool] += 1
        self._all_calls += 1
        for index, spec in enumerate(self.faults):
            if spec.tool is not None and spec.tool != tool:
                continue
            number = self._calls[tool] if spec.tool is not None else self._all_calls
            if spec.nth is not None and number != spec.nth:
                continue
            if spec.probability is not None:
                draw = random.Random(f"{spec.seed}:{self.conversation}:{index}:{tool}:{number}").random()
                if draw >= spec.probability:
                    continue
            return Hit(spec, tool, number, self.conversation)
        return None


@dataclass(frozen=True)
class Faulted:
    """What to deliver instead of the real answer.

    `response` None: no answer at all (timeout: hold the call up to `delay_s`). `truncate_at`:
    send only that many bytes of the body, then drop the connection. `error`: why the recorded
    call failed, when the fault leaves the agent nothing usable.
    """

    response: ToolAnswer | None
    record: FaultRecord
    delay_s: float = 0.0
    truncate_at: int | None = None
    error: str | None = None


def apply_fault(
    hit: Hit,
    upstream: ToolAnswer | None,
    schema: dict[str, JsonValue] | None = None,
    inventory: LoadedInventory | None = None,
) -> Faulted:
    """The answer `hit` delivers; `upstream` is the real answer when `hit.needs_upstream`, else None.

    `schema` is the route's response schema; `inventory`, when known, gives the tool's data
    contract, which the schema_break fault then breaks (see `break_schema_or_contract`).
    """
    kind = hit.spec.kind
    record = FaultRecord(kind=kind)
    if kind in _STATUS:
        status, message = _STATUS[kind]
        headers = {"retry-after": str(hit.spec.retry_after_s)} if kind is FaultKind.HTTP_429 else {}
        return Faulted(
            ToolAnswer.of_json(status, {"error": message}, headers), record, error=f"HTTP {status}"
        )
    if kind is FaultKind.TIMEOUT:
        hold = hit.spec.delay_s or DEFAULT_HOLD_S
        return Faulted(None, record.model_copy(update={"detail": f"held up to {hold:g}s"}), delay_s=hold)
    if upstream is None:
        raise ValueError(f"the {kind.value} fault changes the real answer; none was given")
    if kind is FaultKind.SLOW:
        delay = hit.spec.delay_s or DEFAULT_SLOW_S
        return Faulted(upstream, record.model_copy(update={"detail": f"+{delay:g}s"}), delay_s=delay)
    if kind is FaultKind.TRUNCATED_BODY:
        cut = len(upstream.body) // 2
        detail = f"sent {cut} of {len(upstream.body)} bytes"
        return Faulted(upstream, record.model_copy(update={"detail": detail}), truncate_at=cut, error=detail)
    if kind is FaultKind.MALFORMED_JSON:
        body = _malformed(upstream.body)
        return Faulted(_with_body(upstream, body), record, error="malformed JSON")
    document = upstream.json()
    if kind is FaultKind.EMPTY_RESULT:
        empty: JsonValue = {} if isinstance(document, dict) else [] if isinstance(document, list) else ""
        body = b"" if empty == "" else json.dumps(empty).encode()
        return Faulted(_with_body(upstream, body), record, error=EMPTY_RESULT)
    if kind is FaultKind.SCHEMA_BREAK:
        broken, detail = break_schema_or_contract(hit, document, schema, inventory)
        record = record.model_copy(update={"detail": detail})
        return Faulted(
            _with_body(upstream, json.dumps(broken).encode()), record, error=f"{SCHEMA_BROKEN}: {detail}"
        )
    canary = hit.canary()
    payload = hit.spec.payload.replace("{canary}", canary)
    planted = _plant(document, hit.spec.field, payload)
    record = record.model_copy(
        update={"canary": canary, "payload": payload, "detail": f"in {hit.spec.field!r}"}
    )
    return Faulted(_with_body(upstream, planted), record)


def _with_body(response: ToolAnswer, body: bytes) -> ToolAnswer:
    return ToolAnswer(response.status, body, {**response.headers, "content-type": JSON_TYPE})


def _malformed(body: bytes) -> bytes:
    """The body with its JSON syntax broken (as a buggy serializer or a proxy's error page does)."""
    if b'":' in body:
        return body.replace(b'":', b'"=', 1)
    return b"{" + body + b"<"


def _plant(document: JsonValue, key: str, payload: str) -> bytes:
    if isinstance(document, dict):
        return json.dumps({**document, key: payload}).encode()
    if isinstance(document, list) and document and isinstance(document[0], dict):
        return json.dumps([{**document[0], key: payload}, *document[1:]]).encode()
    return json.dumps({key: payload, "result": document}).encode()


def break_schema_or_contract(
    hit: Hit,
    document: JsonValue,
    schema: dict[str, JsonValue] | None,
    inventory: LoadedInventory | None,
) -> tuple[JsonValue, str]:
    """`document` broken for the schema_break fault `hit`, and what was done.

    With an integration inventory that lists the tool, the break is generated from the tool's
    contract (trailcheck/variants/contract_break.py), so the faulted response fails the inline
    `tool_contracts` check and the GX suite alike: fault tests and contract checks meet. Without
    one (or when the contract constrains no field of this response) the route's schema is broken.
    """
    if hit.spec.schema_field:
        return break_field(document, hit.spec.schema_field)
    spec = inventory.tool(hit.tool) if inventory is not None else None
    if inventory is not None and spec is not None:
        seed = hit.rng().randrange(2**31)
        # Prefer a change the route's schema (what the agent itself checks) refuses too, so a
        # careful agent can notice it; else any change that breaks the contract.
        preferred = [schema] if schema is not None else []
        for also in (preferred, []) if preferred else ([],):
            try:
                broken = break_tool_response(inventory, hit.tool, document, seed, also_refused_by=also)
            except NoBreakFound:
                continue
            return broken.response, f"contract: {broken.description}"
        schema = schema or spec.response_schema
    return break_schema(document, schema, hit.rng())


def break_field(document: JsonValue, key: str) -> tuple[JsonValue, str]:
    """`document` with field `key` (of the object, or of a list's first object) given another type."""
    if isinstance(document, list) and document:
        first, detail = break_field(document[0], key)
        return [first, *document[1:]], f"[0].{detail}"
    if isinstance(document, dict) and key in document:
        value = _other_type(document[key])
        return {**document, key: value}, f"{key}: type -> {value!r}"
    return [document], f"no field {key!r} in this answer: value wrapped in an array"


def break_schema(
    document: JsonValue, schema: dict[str, JsonValue] | None, rng: random.Random
) -> tuple[JsonValue, str]:
    """`document` with one field broken, chosen by `rng`, and what was done.

    With a JSON Schema the breakage is sure to violate it: a required field set to null, an
    enumerated field set outside its set, or a typed field given another type. Without one, a
    field is given another type. With an inventory, `break_schema_or_contract` uses the contract instead.
    """
    if isinstance(document, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        if document:
            first, detail = break_schema(document[0], items if isinstance(items, dict) else None, rng)
            return [first, *document[1:]], f"[0].{detail}"
        return {"unexpected": "object"}, "array replaced by an object"
    if not isinstance(document, dict) or not document:
        return [document], "value wrapped in an array"
    candidates = _breakages(document, schema) or [("type", k) for k in sorted(document)]
    how, key = rng.choice(candidates)
    value: JsonValue
    if how == "null":
        value = None
    elif how == "enum":
        value = "__not_in_enum__"
    else:
        value = _other_type(document.get(key))
    return {**document, key: value}, f"{key}: {how} -> {value!r}"


def _breakages(document: dict[str, JsonValue], schema: dict[str, JsonValue] | None) -> list[tuple[str, str]]:
    if not isinstance(schema, dict):
        return []
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return []
    required = schema.get("required")
    out = (
        [("null", k) for k in sorted(k for k in required if isinstance(k, str)) if k in document]
        if isinstance(required, list)
        else []
    )
    for key, prop in sorted(properties.items()):
        if not isinstance(prop, dict) or key not in document:
            continue
        if "enum" in prop or "const" in prop:
            out.append(("enum", key))
        elif isinstance(prop.get("type"), str):
            out.append(("type", key))
    return out


def _other_type(value: JsonValue) -> JsonValue:
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, int | float):
        return "not-a-number"
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return {"unexpected": "object"}
    return ["unexpected", "array"]
