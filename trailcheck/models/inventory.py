"""The integration inventory (`tools.yaml`): every tool an agent depends on, as data.

Each tool has its endpoint (base URL, method, path template), how it authenticates (a reference to
a secret, never the secret), its rate limit, its owner, the JSON Schema of its responses (and,
optionally, of its arguments), and the Great Expectations suite that is its data contract::

    name: support-desk
    tools:
      - name: lookup_order
        owner: orders-team@example.com
        endpoint: {base_url: "http://127.0.0.1:8700", method: GET, path: "/orders/{order_id}"}
        auth: {type: bearer, secret_env: ORDERS_API_TOKEN}
        rate_limit: {requests: 50, per: second}
        contract: lookup_order.json           # relative to this file
        parameters: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
        response_schema: {type: object, required: [order_id, status], properties: {...}}

A tool gateway reads routes from here: `ToolInventory.tool_for_route("GET", "/orders/A1001")`.
"""

import re
from enum import StrEnum
from typing import Any, Literal, Self

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

INVENTORY_SCHEMA_VERSION = 1
_FORBID = ConfigDict(extra="forbid")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
TOOL_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
ENV_VAR_PATTERN = r"^[A-Z_][A-Z0-9_]*$"
# Prefect block names: lowercase letters, digits and dashes.
BLOCK_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


class HttpMethod(StrEnum):
    """The HTTP methods a tool endpoint may use."""

    GET = "GET"
    POST = "POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"


class Endpoint(BaseModel):
    """Where a tool is served: `method` `base_url` + `path`, with `{placeholders}` filled from the args."""

    model_config = _FORBID

    base_url: str = Field(pattern=r"^https?://[^\s/]+(/[^\s]*)?$", description="e.g. https://orders.internal")
    method: HttpMethod
    path: str = Field(pattern=r"^/[^\s?#]*$", description="A path template, e.g. /orders/{order_id}")

    @field_validator("method", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("path")
    @classmethod
    def _placeholders_are_names(cls, value: str) -> str:
        stripped = _PLACEHOLDER.sub("", value)
        if "{" in stripped or "}" in stripped:
            raise ValueError(f"path {value!r} has a malformed placeholder; write them as {{name}}")
        return value

    @property
    def route(self) -> str:
        """`METHOD /path/template`, the key a gateway routes by."""
        return f"{self.method.value} {self.path}"

    @property
    def path_params(self) -> list[str]:
        """The names of the path's placeholders, in order."""
        return _PLACEHOLDER.findall(self.path)

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        """The placeholder values when `method path` is this endpoint's route, else None."""
        if method.upper() != self.method.value:
            return None
        pattern = "".join(
            f"(?P<{part}>[^/]+)" if i % 2 else re.escape(part)
            for i, part in enumerate(_PLACEHOLDER.split(self.path))
        )
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else None


class AuthType(StrEnum):
    """How a tool authenticates: nothing, a bearer token, an API-key header, or HTTP basic."""

    NONE = "none"
    BEARER = "bearer"
    API_KEY_HEADER = "api_key_header"
    BASIC = "basic"


class AuthRef(BaseModel):
    """How to authenticate, by reference: the name of an environment variable or of a Prefect Secret block.

    The secret itself never appears in the inventory (DESIGN.md: secrets stay out of files and logs).
    """

    model_config = _FORBID

    type: AuthType = AuthType.NONE
    secret_env: str | None = Field(
        default=None, pattern=ENV_VAR_PATTERN, description="Environment variable that holds the secret."
    )
    secret_block: str | None = Field(
        default=None, pattern=BLOCK_NAME_PATTERN, description="Prefect Secret block that holds the secret."
    )
    header: str | None = Field(default=None, description="Header for api_key_header, e.g. X-Api-Key.")

    @model_validator(mode="after")
    def _one_reference(self) -> Self:
        refs = [r for r in (self.secret_env, self.secret_block) if r is not None]
        if self.type is AuthType.NONE:
            if refs:
                raise ValueError("auth type 'none' takes no secret_env or secret_block")
            return self
        if len(refs) != 1:
            raise ValueError(
                f"auth type {self.type.value!r} needs exactly one of secret_env (an environment variable "
                "name) or secret_block (a Prefect Secret block name)"
            )
        if self.type is AuthType.API_KEY_HEADER and not self.header:
            raise ValueError("auth type 'api_key_header' needs `header` (e.g. X-Api-Key)")
        return self


class RateLimit(BaseModel):
    """At most `requests` calls per `per`."""

    model_config = _FORBID

    requests: int = Field(gt=0)
    per: Literal["second", "minute", "hour", "day"] = "second"

    @property
    def per_second(self) -> float:
        """The limit as calls per second."""
        return self.requests / {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[self.per]


def _check_json_schema(value: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
    if value is not None:
        try:
            jsonschema.Draft202012Validator.check_schema(value)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise ValueError(f"invalid JSON Schema at {where}: {exc.message}") from exc
    return value


class ToolSpec(BaseModel):
    """One tool the agent uses, with its data contract."""

    model_config = _FORBID

    name: str = Field(pattern=TOOL_NAME_PATTERN, description="The name the agent calls it by.")
    description: str = ""
    owner: str = Field(min_length=1, description="Team or person to call when its contract breaks.")
    endpoint: Endpoint
    auth: AuthRef = Field(default_factory=AuthRef)
    rate_limit: RateLimit | None = None
    contract: str = Field(
        min_length=1, description="Path of its Great Expectations suite JSON, relative to the inventory."
    )
    response_schema: dict[str, JsonValue] = Field(description="JSON Schema of a successful response.")
    parameters: dict[str, JsonValue] | None = Field(
        default=None, description="JSON Schema of its arguments; unknown arguments are refused."
    )
    trusted: bool = Field(
        default=False,
        description="Its output is trusted (your own CRM); web or email output may carry injections.",
    )
    side_effects: bool | None = Field(
        default=None,
        description="Calls change the world (writes, sends, payments); None: only non-GET methods do.",
    )

    _schema_ok = field_validator("response_schema", "parameters")(_check_json_schema)


class ToolInventory(BaseModel):
    """Every tool an agent depends on."""

    model_config = _FORBID

    schema_version: int = Field(default=INVENTORY_SCHEMA_VERSION, ge=1, le=INVENTORY_SCHEMA_VERSION)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Lowercase letters, digits, dashes.")
    description: str = ""
    tools: list[ToolSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names: set[str] = set()
        routes: dict[tuple[str, str], str] = {}
        for tool in self.tools:
            if tool.name in names:
                raise ValueError(f"duplicate tool name {tool.name!r}: tool names must be unique")
            names.add(tool.name)
            key = (tool.endpoint.base_url, tool.endpoint.route)
            if key in routes:
                raise ValueError(
                    f"tools {routes[key]!r} and {tool.name!r} share the route {tool.endpoint.route} "
                    f"on {tool.endpoint.base_url}: a gateway could not tell them apart"
                )
            routes[key] = tool.name
        return self

    def tool(self, name: str) -> ToolSpec | None:
        """The tool called `name`, or None."""
        return next((t for t in self.tools if t.name == name), None)

    def tool_for_route(self, method: str, path: str) -> tuple[ToolSpec, dict[str, str]] | None:
        """The tool whose endpoint serves `method path`, with its path parameters; None if none does."""
        for tool in self.tools:
            params = tool.endpoint.matches(method, path)
            if params is not None:
                return tool, params
        return None
