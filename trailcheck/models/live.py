"""A live trace after scoring and review: what the health metrics, the DB and the reviewers see."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from trailcheck.models.failure import FailureCategory
from trailcheck.models.sampling import SampleReason
from trailcheck.models.verdict import Verdict


class ReviewDecision(StrEnum):
    """A person's decision on a trace sent to review. `rejected` counts as a failure."""

    APPROVED = "approved"
    REJECTED = "rejected"


class Review(BaseModel):
    """The decision on one reviewed trace, who made it and how (`person` or `timeout` default)."""

    trace_id: str
    decision: ReviewDecision
    decided_by: str = Field(default="timeout", description="'timeout' when the default decision applied.")
    expected: str = Field(default="", description="What the agent should have done, from the reviewer.")
    note: str = ""
    decided_at: datetime | None = None


class ScoredTrace(BaseModel):
    """One sampled trace with its verdicts and the outcome they add up to."""

    trace_id: str
    task_type: str
    timestamp: datetime | None = None
    reasons: list[SampleReason]
    uniform: bool = Field(description="In the uniform part of the sample (stands for its task type).")
    verdicts: list[Verdict] = Field(default_factory=list)
    quality: float | None = Field(
        default=None, ge=0, le=1, description="Judge score, else share of checks passed."
    )
    failed: bool = False
    failure_category: FailureCategory | None = None
    review_reason: str | None = Field(default=None, description="Why it needs a person's review, if it does.")
    review: Review | None = None

    @property
    def counts_as_failure(self) -> bool:
        """A failed check, or a reviewer rejected it."""
        return self.failed or (self.review is not None and self.review.decision is ReviewDecision.REJECTED)
