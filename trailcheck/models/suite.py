"""A regression suite: versioned cases with shared defaults."""

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from trailcheck.models.case import Case
from trailcheck.models.environment import Environment
from trailcheck.models.expectations import Expectations
from trailcheck.models.fault import FaultSpec

SUITE_SCHEMA_VERSION = 1


class CaseDefaults(BaseModel):
    """Values every case of a suite starts from; a case's own values win.

    Expectations merge field by field (a case's `budgets` replaces the default budgets
    as a whole); tags are added to the case's tags; context keys merge.
    """

    model_config = ConfigDict(extra="forbid")

    task_type: str | None = None
    context: dict[str, JsonValue] = Field(default_factory=dict)
    expectations: Expectations = Field(default_factory=Expectations)
    tags: list[str] = Field(default_factory=list)
    timeout_s: float | None = Field(default=None, gt=0)
    faults: list[FaultSpec] = Field(
        default_factory=list,
        description="Faults of every case that declares none of its own (`faults: []` opts out).",
    )


class Suite(BaseModel):
    """A versioned set of regression cases."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(default=SUITE_SCHEMA_VERSION, ge=1, le=SUITE_SCHEMA_VERSION)
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="Lowercase letters, digits, dashes.")
    version: str = "1"
    description: str = ""
    defaults: CaseDefaults = Field(default_factory=CaseDefaults)
    environment: Environment | None = Field(
        default=None,
        description="Probes and reset hook of every case that declares no environment of its own.",
    )
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            return data
        environment = data.get("environment")
        if environment is not None:
            cases = [
                {**c, "environment": environment} if isinstance(c, dict) and "environment" not in c else c
                for c in data["cases"]
            ]
            data = {**data, "cases": cases}
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, dict) or not defaults:
            return data
        return {**data, "cases": [_merge_case(defaults, c) for c in data["cases"]]}

    @model_validator(mode="after")
    def _unique_case_ids(self) -> Self:
        seen: set[str] = set()
        for case in self.cases:
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r}: case ids must be unique in a suite")
            seen.add(case.id)
        return self

    def case(self, case_id: str) -> Case:
        """The case with this id; KeyError if there is none."""
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)


def _merge_case(defaults: dict[str, Any], case: Any) -> Any:
    if not isinstance(case, dict):
        return case
    merged = dict(case)
    for key in ("task_type", "timeout_s", "faults"):
        if key in defaults and key not in merged:
            merged[key] = defaults[key]
    if isinstance(defaults.get("context"), dict):
        merged["context"] = {**defaults["context"], **(merged.get("context") or {})}
    if isinstance(defaults.get("tags"), list):
        own = merged.get("tags") or []
        merged["tags"] = list(dict.fromkeys([*defaults["tags"], *own])) if isinstance(own, list) else own
    if isinstance(defaults.get("expectations"), dict):
        own_exp = merged.get("expectations") or {}
        if isinstance(own_exp, dict):
            merged["expectations"] = {**defaults["expectations"], **own_exp}
    return merged
