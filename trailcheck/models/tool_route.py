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

    def _pattern(self) -> re.Pattern[str]:
        parts = _PARAM.split(self.path.rstrip("/") or "/")
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts))
        return re.compile(regex)
