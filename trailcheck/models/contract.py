"""Data contracts on tool responses: the suite file format, the responses checked, and the results.

A contract is a Great Expectations 1.x expectation suite stored as JSON (what GX's
``suite.to_json_dict()`` writes, editable by hand). Responses are flattened to rows before GX sees
them (trailcheck/analysis/flatten.py): nested fields become dotted columns (``customer.tier``), lists
of records are exploded to one row each, and every row carries ``_response_rows``, the number of
rows its response became, so a suite can bound the size of one response.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, computed_field

from trailcheck.models.failure import FailureCategory
from trailcheck.models.notification import NotificationResult
from trailcheck.models.trajectory import ToolCall

CONTRACT_RESULT_SCHEMA_VERSION = 1
RESPONSE_ROWS_COLUMN = "_response_rows"


class ExpectationSpec(BaseModel):
    """One expectation of a suite file, as GX 1.x writes it: a type and its keyword arguments."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern=r"^expect_[a-z0-9_]+$", description="e.g. expect_column_values_to_not_be_null")
    kwargs: dict[str, JsonValue] = Field(default_factory=dict)
    meta: dict[str, JsonValue] = Field(default_factory=dict)
    id: str | None = None
    severity: Literal["critical", "warning", "info"] = "critical"
    description: str | None = None
    notes: JsonValue = None
    rendered_content: JsonValue = None

    @property
    def column(self) -> str | None:
        """The column the expectation is about, when it is about one."""
        column = self.kwargs.get("column")
        return column if isinstance(column, str) else None


class ContractSuite(BaseModel):
    """A tool's data contract: a GX expectation suite file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    id: str | None = None
    expectations: list[ExpectationSpec] = Field(default_factory=list)
    meta: dict[str, JsonValue] = Field(default_factory=dict)
    notes: JsonValue = None

    def gx_dict(self) -> dict[str, Any]:
        """The suite as `gx.ExpectationSuite(**d)` takes it."""
        return self.model_dump(mode="json", exclude_none=True)


class ToolResponse(BaseModel):
    """One successful response of a tool, and where it was recorded (for examples in reports)."""

    tool: str
    response: JsonValue
    source: str = Field(description="e.g. 'run 3f2a case refund-ok trial 0 step 3' or 'trace t-1 message 2'")
    recorded_at: datetime | None = None


class RecordedCalls(BaseModel):
    """Successful tool responses collected from trajectories, and how many calls failed (nothing to judge)."""

    responses: list[ToolResponse] = Field(default_factory=list)
    failed_calls: int = 0

    def add_steps(self, steps: Sequence[Any], source: str, recorded_at: datetime | None = None) -> None:
        """Collect the tool calls among a trajectory's steps (`Step` models, or their stored JSON)."""
        for i, step in enumerate(steps):
            if isinstance(step, dict):
                if step.get("type") != "tool_call":
                    continue
                step = ToolCall.model_validate(step)
            if not isinstance(step, ToolCall):
                continue
            if not step.answered:
                self.failed_calls += 1
                continue
            self.responses.append(
                ToolResponse(
                    tool=step.name, response=step.result, source=f"{source} step {i}", recorded_at=recorded_at
                )
            )

    def by_tool(self) -> dict[str, list[ToolResponse]]:
        """The responses grouped by tool, in the order they were recorded."""
        grouped: dict[str, list[ToolResponse]] = {}
        for response in self.responses:
            grouped.setdefault(response.tool, []).append(response)
        return grouped


# The pydantic mypy plugin gives a model that accepts extra keys an `__init__(..., **kwargs)`,
# which clashes with the field named `kwargs` (GX's name for an expectation's arguments).
class ExpectationOutcome(BaseModel):  # type: ignore[no-redef]
    """What GX said about one expectation over a tool's responses."""

    expectation: str
    column: str | None = None
    kwargs: dict[str, JsonValue] = Field(default_factory=dict)
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: JsonValue = None
    examples: list[JsonValue] = Field(default_factory=list, description="Some unexpected values.")
    example_sources: list[str] = Field(default_factory=list, description="Responses the examples came from.")
    error: str | None = Field(default=None, description="GX could not evaluate it (e.g. a missing column).")

    def describe(self) -> str:
        """One line a person can act on."""
        target = f"{self.expectation}({self.column})" if self.column else self.expectation
        if self.success:
            return f"{target}: ok"
        if self.error:
            return f"{target}: {self.error}"
        if self.expectation == "expect_column_to_exist":
            return f"{target}: no response has this field"
        details = []
        if self.unexpected_count is not None and self.element_count is not None:
            details.append(f"{self.unexpected_count} of {self.element_count} values unexpected")
        elif self.observed_value is not None:
            details.append(f"observed {self.observed_value!r}")
        if self.examples:
            shown = ", ".join(repr(e) for e in self.examples[:3])
            where = f" (from {self.example_sources[0]})" if self.example_sources else ""
            details.append(f"e.g. {shown}{where}")
        return f"{target}: {'; '.join(details) or 'failed'}"


class ToolContractResult(BaseModel):
    """One tool's responses over the window, validated against its contract."""

    tool: str
    suite: str
    owner: str = ""
    responses: int
    rows: int
    outcomes: list[ExpectationOutcome] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know a decorator over @property
    @property
    def passed(self) -> int:
        """Expectations met."""
        return sum(1 for o in self.outcomes if o.success)

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know a decorator over @property
    @property
    def failed(self) -> int:
        """Expectations broken."""
        return sum(1 for o in self.outcomes if not o.success)

    @property
    def success(self) -> bool:
        """Every expectation was met (a tool with no responses has nothing to break)."""
        return self.failed == 0


class ContractFinding(BaseModel):
    """A broken contract: always failure category `integration`, with what broke and examples."""

    tool: str
    owner: str = ""
    expectation: str
    column: str | None = None
    reason: str
    unexpected_count: int | None = None
    examples: list[JsonValue] = Field(default_factory=list)
    example_sources: list[str] = Field(default_factory=list)
    failure_category: FailureCategory = FailureCategory.INTEGRATION


class ContractRunResult(BaseModel):
    """A run of the `contracts` flow: every tool's result over a time window, and its findings."""

    schema_version: int = CONTRACT_RESULT_SCHEMA_VERSION
    run_id: str
    inventory: str
    started_at: datetime
    finished_at: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    sources: list[str] = Field(default_factory=list, description="Where responses were read from.")
    flow_run_id: str | None = None
    tools: list[ToolContractResult] = Field(default_factory=list)
    failed_calls: int = Field(
        default=0, description="Calls with no response to check (error status, timeout); not judged."
    )
    untracked_tools: dict[str, int] = Field(
        default_factory=dict, description="Responses of tools missing from the inventory, by tool."
    )
    notifications: list[NotificationResult] = Field(
        default_factory=list,
        description="Where the run was announced (Slack); a failed notification never changes the result.",
    )

    @property
    def findings(self) -> list[ContractFinding]:
        """Every broken expectation, tool by tool."""
        return [
            ContractFinding(
                tool=t.tool,
                owner=t.owner,
                expectation=o.expectation,
                column=o.column,
                reason=o.describe(),
                unexpected_count=o.unexpected_count,
                examples=o.examples,
                example_sources=o.example_sources,
            )
            for t in self.tools
            for o in t.outcomes
            if not o.success
        ]

    @property
    def ok(self) -> bool:
        """No contract was broken."""
        return all(t.success for t in self.tools)

    @property
    def responses(self) -> int:
        """Responses checked, over every tool."""
        return sum(t.responses for t in self.tools)


class ContractBreak(BaseModel):
    """A response altered to break its contract (the gateway's "schema-breaking response" fault)."""

    tool: str
    kind: Literal["null", "out_of_set", "wrong_type", "missing", "pattern"]
    field: str = Field(description="Dotted path of the altered field, e.g. customer.tier")
    original: JsonValue = None
    replacement: JsonValue = None
    response: JsonValue

    @property
    def description(self) -> str:
        """What was changed, for logs and fault reports."""
        if self.kind == "missing":
            return f"{self.tool}: removed {self.field} (was {self.original!r})"
        return f"{self.tool}: {self.field} {self.original!r} -> {self.replacement!r} ({self.kind})"
