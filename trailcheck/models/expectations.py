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
_MATCHER_KINDS = ("exact", "regex", "range", "any", "one_of", "any_of", "fields", "items", "each")


class Normalize(BaseModel):
    """How strings are made comparable before a matcher compares them (both sides alike).

    ``case`` folds case, ``whitespace`` collapses runs of whitespace to one space or removes it,
    ``remove`` drops every character of a set (a punctuation set, e.g. ``",.-"``), ``quotes``
    reads single quotes as double quotes. In YAML a preset name stands for its settings:
    ``normalize: bfcl`` is the Berkeley Function Calling Leaderboard's AST checker rule;
    ``normalize: none`` compares as given (it switches off a normalize inherited from outside).
    """

    model_config = _FORBID

    case: bool = Field(default=False, description="Compare case-insensitively.")
    whitespace: Literal["keep", "collapse", "remove"] = Field(
        default="keep", description="keep; collapse runs to one space (and strip); remove all whitespace."
    )
    remove: str = Field(default="", description='Characters dropped before comparing, e.g. ",.-".')
    quotes: bool = Field(default=False, description="Read single quotes as double quotes.")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, str):
            if data not in NORMALIZE_PRESETS:
                raise ValueError(
                    f"unknown normalize preset {data!r}; use one of {', '.join(NORMALIZE_PRESETS)}"
                )
            return NORMALIZE_PRESETS[data]
        return data

    def apply(self, text: str) -> str:
        """`text` as compared."""
        if self.remove:
            text = text.translate({ord(c): None for c in self.remove})
        if self.whitespace == "remove":
            text = "".join(text.split())
        elif self.whitespace == "collapse":
            text = " ".join(text.split())
        if self.case:
            text = text.casefold()
        if self.quotes:
            text = text.replace("'", '"')
        return text


# BFCL's ast_checker.standardize_string (gorilla, berkeley-function-call-leaderboard/bfcl_eval/
# eval_checker/ast_eval/ast_checker.py): re.sub(r"[ \,\.\/\-\_\*\^]", "", s).lower().replace("'", '"').
# Spaces only (not tabs or newlines) are removed there, so the space is part of the removed set.
NORMALIZE_PRESETS: dict[str, dict[str, Any]] = {
    "bfcl": {"case": True, "remove": " ,./-_*^", "quotes": True},
    "none": {},  # compare as given: turns off a normalize inherited from an enclosing matcher
}


class ValueType(StrEnum):
    """A strict JSON type: ``integer`` is not a float, ``float`` is not an integer, neither is a bool."""

    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    NUMBER = "number"
    BOOLEAN = "boolean"
    ARRAY = "array"
    OBJECT = "object"
    NULL = "null"


class ArgMatcher(BaseModel):
    """How one argument (or a value nested in one) of a tool call is matched.

    In YAML a plain value means ``exact``; a mapping names one kind:
    ``{regex: "^A\\d+$"}``, ``{min: 1, max: 50}``, ``{any: true}``, ``{one_of: [a, b]}``,
    ``{exact: {...}}`` for a mapping value; nested: ``{fields: {key: matcher}, extra_keys: false}``
    for a mapping, ``{items: [matcher, ...], order: unordered}`` or ``{each: matcher}`` for a list,
    ``{any_of: [matcher, ...]}`` for alternatives. ``type: float`` (strict; also alone) and
    ``normalize`` (strings; inherited by nested matchers) refine any of them. Add
    ``optional: true`` to let the argument be absent; ``one_of: []`` with it means "must be absent".
    """

    model_config = _FORBID

    exact: JsonValue = None
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    any: bool = False
    one_of: list[JsonValue] | None = None
    any_of: list["ArgMatcher"] | None = Field(default=None, description="Matches when one of these matches.")
    fields: dict[str, "ArgMatcher"] | None = Field(
        default=None,
        description="A mapping value: a matcher per key (`optional: true` for a key that may lack).",
    )
    extra_keys: bool = Field(default=True, description="With `fields`: whether keys not listed are allowed.")
    items: list["ArgMatcher"] | None = Field(default=None, description="A list value: a matcher per element.")
    order: Literal["ordered", "unordered"] = Field(
        default="ordered", description="With `items`: whether the elements must come in the listed order."
    )
    each: "ArgMatcher | None" = Field(default=None, description="A list value: every element matches this.")
    type: ValueType | None = Field(default=None, description="The value's strict JSON type.")
    normalize: Normalize | None = Field(
        default=None, description="How strings compare (a preset name such as `bfcl`, or the settings)."
    )
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
        if len(kinds) > 1 or (not kinds and self.type is None):
            named = ", ".join(kinds) if kinds else "none"
            raise ValueError(
                "an argument matcher needs exactly one of exact, regex, min/max, any, one_of, any_of, "
                f"fields, items, each (or only a type) (got {named})"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if "extra_keys" in self.model_fields_set and self.fields is None:
            raise ValueError("extra_keys applies to a `fields` matcher only")
        if "order" in self.model_fields_set and self.items is None:
            raise ValueError("order applies to an `items` matcher only")
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
        # Dump only the matcher's own kind and refinements so a dumped matcher validates again.
        data = handler(self)
        keep = {"min", "max"} if self.kind == "range" else {self.kind}
        keep |= {k for k in ("type", "normalize") if getattr(self, k) is not None}
        keep |= {k for k in ("optional", "extra_keys", "order") if k in self.model_fields_set}
        return {k: v for k, v in data.items() if k in keep and (k == "exact" or v is not None)}

    @property
    def kind(self) -> str:
        """The matcher kind: exact, regex, range, any, one_of, any_of, fields, items, each (or type)."""
        return next((k for k in _MATCHER_KINDS if self._has(k)), "type")


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


class CallCount(StrEnum):
    """Which tool calls count.

    attempts: every call the agent made, failed or not (the default: an attempt at a forbidden
    tool is itself a finding). succeeded: only calls that did not fail, i.e. that could have
    taken effect; a failed attempt followed by a corrected call is then judged by the correction.
    """

    ATTEMPTS = "attempts"
    SUCCEEDED = "succeeded"


class ToolCallsExpectation(BaseModel):
    """The tool calls a case expects, and how to compare them.

    `only` or `tools_matching` scopes the comparison to some tools: calls to other tools are free,
    and within the scope each tool's count is exact in modes strict and unordered.
    """

    model_config = _FORBID

    mode: MatchMode = MatchMode.STRICT
    calls: list[ToolCallSpec] = Field(default_factory=list)
    count: CallCount | None = Field(
        default=None, description="attempts or succeeded; unset: the expectations' `count` (attempts)."
    )
    only: list[str] | None = Field(default=None, description="Compare only calls to these tools.")
    tools_matching: str | None = Field(
        default=None,
        description='Compare only calls to tools whose name matches this regex, e.g. "^(book|cancel)_".',
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, data: Any) -> Any:
        return {"calls": data} if isinstance(data, list) else data

    @field_validator("tools_matching")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        return ArgMatcher._regex_compiles(value)

    @model_validator(mode="after")
    def _calls_in_scope(self) -> Self:
        if self.only is not None and self.tools_matching is not None:
            raise ValueError("give either only or tools_matching, not both")
        outside = [spec.name for spec in self.calls if not self.in_scope(spec.name)]
        if outside:
            raise ValueError(
                f"expected call(s) {', '.join(map(repr, outside))} lie outside the scope "
                f"({'only' if self.only is not None else 'tools_matching'}); widen it or drop them"
            )
        return self

    def in_scope(self, tool: str) -> bool:
        """Whether calls to `tool` are compared."""
        if self.only is not None:
            return tool in self.only
        if self.tools_matching is not None:
            return re.search(self.tools_matching, tool) is not None
        return True


class ReplyScope(StrEnum):
    """Which of the agent's user-visible replies `final_answer` reads.

    last: the final answer. any_reply: each `contains`/`regex`/`json_schema` is met by some reply,
    and no reply says a `not_contains` text. all_replies: every reply meets all of them.
    """

    LAST = "last"
    ANY_REPLY = "any_reply"
    ALL_REPLIES = "all_replies"


class FinalAnswerExpectation(BaseModel):
    """Expectations on the agent's final answer (or, with `in`, on its other replies)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    json_schema: dict[str, JsonValue] | None = None
    case_sensitive: bool = False
    scope: ReplyScope = Field(
        default=ReplyScope.LAST, alias="in", description="last, any_reply or all_replies (see ReplyScope)."
    )
    normalize: Normalize | None = Field(
        default=None,
        description="How `contains`/`not_contains` texts and replies compare (e.g. remove: ',').",
    )

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


class StateAssertion(BaseModel):
    """What one probe must read after the conversation: `equals` a value or `match` a matcher.

    ``{probe: refunds, path: A1001, equals: 42.5}``; ``{probe: refunds, path: A1002, match:
    {one_of: [], optional: true}}`` says the key must be absent.
    """

    model_config = _FORBID

    probe: str = Field(min_length=1, description="A probe of the suite's `environment`.")
    path: str = Field(default="", description='Dotted path into the reading ("" is all of it; 0 indexes).')
    equals: JsonValue = None
    match: ArgMatcher | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_way(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("equals" in data) == ("match" in data):
            raise ValueError("a state assertion needs exactly one of equals, match")
        return data

    @model_serializer(mode="wrap")
    def _only_one_way(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Dump equals or match, never both, so a dumped assertion validates again (shards travel as JSON).
        data: dict[str, Any] = handler(self)
        data.pop("equals" if self.match is not None else "match", None)
        return data

    @property
    def matcher(self) -> ArgMatcher:
        """The matcher the read value must satisfy."""
        return self.match if self.match is not None else ArgMatcher(exact=self.equals)

    def describe(self) -> str:
        """`probe.path`, for messages."""
        return f"{self.probe}.{self.path}" if self.path else self.probe


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
    count: CallCount = Field(
        default=CallCount.ATTEMPTS,
        description="Which calls never_call, max_tool_calls, tool_calls and tool_call_failure's argument "
        "check count: attempts (all) or succeeded (calls that did not fail).",
    )
    completed: bool | None = Field(
        default=None,
        description="true: the conversation must have ended normally (not at a step limit, not truncated).",
    )
    state: list[StateAssertion] = Field(
        default_factory=list,
        description="What the environment's probes must read after the conversation (see Environment).",
    )
