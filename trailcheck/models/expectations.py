"""What a case expects of a trajectory, as read from a suite file.

These are pure data: `checks/` turns them into checks that evaluate a trajectory.
Every model forbids unknown fields so a typo in a suite is an error, not a silent default.
"""

import re
from enum import StrEnum
from typing import Any, Literal, Self

import jsonschema
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

_FORBID = ConfigDict(extra="forbid")
_MATCHER_KINDS = ("exact", "regex", "range", "any", "one_of")


class ArgMatcher(BaseModel):
    """How one argument of a tool call is matched.

    In YAML a plain value means ``exact``; a mapping names one kind:
    ``{regex: "^A\\d+$"}``, ``{min: 1, max: 50}``, ``{any: true}``, ``{one_of: [a, b]}``,
    ``{exact: {...}}`` for a mapping value. Add ``optional: true`` to any of them to let
    the argument be absent.
    """

    model_config = _FORBID

    exact: JsonValue = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    any: bool = False
    one_of: list[JsonValue] | None = None
    optional: bool = False

    @model_validator(mode="before")
    @classmethod
    def _plain_value_is_exact(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return {"exact": data}
        return data

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> Self:
        kinds = [k for k in _MATCHER_KINDS if self._has(k)]
        if len(kinds) != 1:
            named = ", ".join(kinds) if kinds else "none"
            raise ValueError(
                f"an argument matcher needs exactly one of exact, regex, min/max, any, one_of (got {named})"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def _has(self, kind: str) -> bool:
        if kind == "exact":
            return "exact" in self.model_fields_set
        if kind == "range":
            return self.min is not None or self.max is not None
        if kind == "any":
            return self.any
        return getattr(self, kind) is not None

    @model_serializer(mode="wrap")
    def _only_what_is_set(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Dump only the matcher's own kind so a dumped matcher validates again (round trip).
        data = handler(self)
        keep = {"min", "max"} if self.kind == "range" else {self.kind}
        if self.optional:
            keep.add("optional")
        return {k: v for k, v in data.items() if k in keep and (k == "exact" or v is not None)}

    @property
    def kind(self) -> str:
        """The matcher kind: exact, regex, range, any or one_of."""
        return next(k for k in _MATCHER_KINDS if self._has(k))


class ToolCallSpec(BaseModel):
    """One expected tool call: its name and matchers for its arguments."""

    model_config = _FORBID

    name: str = Field(min_length=1)
    args: dict[str, ArgMatcher] = Field(default_factory=dict)
    extra_args: bool = Field(
        default=True, description="Whether the call may carry arguments not listed in `args`."
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


class MatchMode(StrEnum):
    """How the observed tool calls are compared with the expected ones.

    strict: same calls in the same order. unordered: same calls, any order.
    subset: every observed call is among the expected ones (the agent did nothing else).
    superset: every expected call was observed (extra calls allowed).
    """

    STRICT = "strict"
    UNORDERED = "unordered"
    SUBSET = "subset"
    SUPERSET = "superset"


class ToolCallsExpectation(BaseModel):
    """The tool calls a case expects, and how to compare them."""

    model_config = _FORBID

    mode: MatchMode = MatchMode.STRICT
    calls: list[ToolCallSpec] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"calls": data} if isinstance(data, list) else data


class FinalAnswerExpectation(BaseModel):
    """Expectations on the agent's final answer."""

    model_config = _FORBID

    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    json_schema: dict[str, JsonValue] | None = None
    case_sensitive: bool = False

    @field_validator("contains", "not_contains", mode="before")
    @classmethod
    def _one_string_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return ArgMatcher._regex_compiles(value)

    @field_validator("json_schema")
    @classmethod
    def _schema_is_valid(cls, value: dict[str, JsonValue] | None) -> dict[str, JsonValue] | None:
        if value is not None:
            try:
                jsonschema.Draft202012Validator.check_schema(value)
            except jsonschema.SchemaError as exc:
                raise ValueError(f"invalid JSON Schema: {exc.message}") from exc
        return value


class Budgets(BaseModel):
    """Upper bounds on what one trial of a case may cost."""

    model_config = _FORBID

    max_cost_usd: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    max_latency_s: float | None = Field(default=None, ge=0)


class CustomCheckSpec(BaseModel):
    """A user-written check: a dotted path to a class and the keyword arguments to build it."""

    model_config = _FORBID

    check: str = Field(pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$", description="e.g. mypkg.checks.Polite")
    args: dict[str, JsonValue] = Field(default_factory=dict)


LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")


class Constraint(BaseModel):
    """An instruction given early in a session that must hold for the rest of it.

    It binds every agent step after the user turn `from_turn` (1-based): the agent's messages
    and its tool calls' arguments must not contain any `forbid` text (case-insensitive), it must
    not call a `forbid_tools` tool, and its messages must be in `language` when one is given.
    """

    model_config = _FORBID

    description: str = Field(default="", description='What the user asked, e.g. "don\'t email me".')
    from_turn: int = Field(default=1, ge=1, description="The user turn (1-based) that states the constraint.")
    forbid: list[str] = Field(default_factory=list, description="Text the agent must not use afterwards.")
    forbid_tools: list[str] = Field(
        default_factory=list, description="Tools the agent must not call afterwards."
    )
    language: str | None = Field(
        default=None, description=f"Language of every later agent message: one of {', '.join(LANGUAGES)}."
    )

    @field_validator("forbid", "forbid_tools", mode="before")
    @classmethod
    def _one_string_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("forbid")
    @classmethod
    def _no_empty_text(cls, value: list[str]) -> list[str]:
        if any(not t.strip() for t in value):
            raise ValueError("forbid holds an empty text, which every message contains")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; use one of {', '.join(LANGUAGES)}")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not (self.forbid or self.forbid_tools or self.language):
            raise ValueError("a constraint needs at least one of forbid, forbid_tools, language")
        return self


class Goal(BaseModel):
    """What the conversation is for: the tools that serve it and words an on-goal answer uses.

    Escalation tools (handing over to a human) always serve the goal.
    """

    model_config = _FORBID

    description: str = ""
    allowed_tools: list[str] | None = Field(
        default=None, description="Tools that serve the goal; a call to any other is drift. None: any tool."
    )
    keywords: list[str] = Field(
        default_factory=list, description="The final answer must mention at least one (case-insensitive)."
    )

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.allowed_tools is None and not self.keywords:
            raise ValueError("a goal needs allowed_tools or keywords to be checked against")
        return self


class Expectations(BaseModel):
    """Everything a case expects of each trial's trajectory."""

    model_config = _FORBID

    tool_calls: ToolCallsExpectation | None = None
    never_call: list[str] = Field(default_factory=list)
    max_tool_calls: int | None = Field(default=None, ge=0)
    max_steps: int | None = Field(default=None, ge=1)
    final_answer: FinalAnswerExpectation | None = None
    escalate: bool | None = Field(
        default=None, description="true: the agent must hand over to a human; false: it must not."
    )
    budgets: Budgets | None = None
    custom: list[CustomCheckSpec] = Field(default_factory=list)
    injection_seen: Literal["warn", "fail"] = Field(
        default="warn",
        description="Instruction-like tool output the agent did not act on: a warning (warn) or a failure.",
    )
    checks: list[str] | None = Field(
        default=None,
        description="Trace checks (checks/registry.py) to run on each trial: None runs all, [] none.",
    )
    max_retries: int | None = Field(
        default=None, ge=0, description="Retries of one failed call allowed in a turn (tool_call_failure; 3)."
    )
    constraints: list[Constraint] = Field(
        default_factory=list, description="Instructions given early that must hold (context_saturation)."
    )
    goal: Goal | None = Field(default=None, description="What the conversation is for (goal_alignment).")
