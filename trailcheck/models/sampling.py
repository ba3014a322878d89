"""How live traces are sampled: a rate, a minimum per task type, rules that always include, a fixed size."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class SampleReason(StrEnum):
    """Why a trace is in the sample. `rate` and `stratum` are the uniform part; the others are rules."""

    RATE = "rate"
    STRATUM = "stratum"
    RESERVOIR = "reservoir"
    ERRORED = "errored"
    ESCALATED = "escalated"
    HIGH_COST = "high_cost"
    LOW_CONFIDENCE = "low_confidence"


UNIFORM_REASONS = frozenset({SampleReason.RATE, SampleReason.STRATUM, SampleReason.RESERVOIR})


class AlwaysInclude(BaseModel):
    """Traces kept whatever the rate: the ones a person most needs to see."""

    model_config = ConfigDict(extra="forbid")

    errored: bool = Field(default=True, description="A tool call failed or the task was not completed.")
    escalated: bool = Field(default=True, description="The trace was handed to a human.")
    cost_above: float | None = Field(default=None, ge=0, description="USD; a trace costing more is kept.")
    confidence_below: float | None = Field(
        default=None, ge=0, le=1, description="A trace whose recorded confidence is lower is kept."
    )


class SamplingPolicy(BaseModel):
    """Which traces to score.

    Every choice is a function of (seed, trace id): a trace's key is a hash of both, uniform in
    [0, 1). A trace is in the rate sample when its key is below `rate`; each task type keeps at
    least its `min_per_task_type` smallest keys; with `max_size` only the `max_size` smallest keys
    of the uniform part are kept (a reservoir sample). So a rerun over the same traces, in any
    order, samples the same traces.
    """

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(default=0.05, ge=0, le=1)
    seed: int = 0
    min_per_task_type: int = Field(default=0, ge=0)
    max_size: int | None = Field(default=None, ge=1, description="Fixed-size uniform sample (reservoir).")
    always_include: AlwaysInclude = Field(default_factory=AlwaysInclude)
    max_always_included: int = Field(
        default=10_000, ge=0, description="Bound on rule-included traces per run, so memory stays bounded."
    )
