"""How an HTTP request to an agent's tools maps to a tool name: method plus path template."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

_PARAM = re.compile(r"\{([A-Za-z_]\w*)\}")


class ToolRoute(BaseModel):
    """One tool of an HTTP tools API: ``GET /orders/{order_id}`` is `lookup_order`.

    Path parameters become the call's arguments (with query parameters and a JSON object body).
    A tool inventory (tools.yaml) can feed a list of these to the gateway.
    """

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/", description="e.g. /orders/{order_id}")
    response_schema: dict[str, JsonValue] | None = Field(
        default=None, description="JSON Schema of a success body; the schema_break fault breaks what it says."
    )
    parameters: dict[str, JsonValue] | None = Field(
        default=None,
        description="JSON Schema of the arguments: path and query values (text on the wire) are recorded "
        "with the types it gives (limit: '2' -> 2 where it says integer).",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when `method` and `path` are this route's, else None."""
        if method.upper() != self.method:
            return None
        found = self._pattern().fullmatch(path.rstrip("/") or "/")
        return found.groupdict() if found else None

    def typed(self, args: dict[str, JsonValue]) -> dict[str, JsonValue]:
        """`args` with text values turned into the types `parameters` gives them (others as they are)."""
        properties = self.parameters.get("properties") if self.parameters else None
        if not isinstance(properties, dict):
            return args
        return {k: typed_value(v, properties.get(k)) for k, v in args.items()}

    def _pattern(self) -> re.Pattern[str]:
        parts = _PARAM.split(self.path.rstrip("/") or "/")
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
        return re.compile(regex)


_INTEGER = re.compile(r"^-?\d+$")
_BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def typed_value(value: JsonValue, schema: JsonValue) -> JsonValue:
    """A wire value (text, or a list of texts for a repeated query parameter) as `schema` types it.

    Only a lossless reading is taken ('2' -> 2, never '2.5' -> 2); a value that does not read as the
    schema says is kept as sent, so a check can still see what the agent really sent.
    """
    if not isinstance(schema, dict):
        return value
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if isinstance(value, list) or "array" in kinds:
        if "array" not in kinds:
            return value
        items = value if isinstance(value, list) else [value]
        return [typed_value(item, schema.get("items")) for item in items]
    if not isinstance(value, str):
        return value
    for kind in kinds:
        if kind == "integer" and _INTEGER.match(value):
            return int(value)
        if kind == "number":
            try:
                number = float(value)
            except ValueError:
                continue
            return int(number) if _INTEGER.match(value) else number
        if kind == "boolean" and value.lower() in _BOOLEANS:
            return _BOOLEANS[value.lower()]
        if kind == "null" and value in ("", "null"):
            return None
    return value
