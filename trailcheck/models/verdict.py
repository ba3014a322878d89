"""The judgement of one check on one trajectory."""

from enum import StrEnum

from pydantic import BaseModel, Field

from trailcheck.models.failure import FailureCategory

# The two prompt-injection checks (checks/provenance.py), named here so summaries and reports, which
# sit below the checks, can tell an injection the agent followed from one it only saw.
INJECTION_FOLLOWED = "injection_followed"
INJECTION_SEEN = "injection_seen"


class VerdictStatus(StrEnum):
    """passed/failed: the check ran. skipped: it could not run and says why. errored: it crashed."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERRORED = "errored"


class Verdict(BaseModel):
    """One check's result: status, optional score, a reason a person can act on, and a category."""

    check: str
    status: VerdictStatus
    score: float | None = None
    reason: str = ""
    failure_category: FailureCategory | None = None
    step_index: int | None = Field(default=None, description="The trajectory step the verdict points at.")
    message_indices: list[int] = Field(
        default_factory=list, description="The source chat messages involved (traces in OpenAI format)."
    )

    @property
    def passed(self) -> bool:
        """True only for a check that ran and passed."""
        return self.status is VerdictStatus.PASSED

    @property
    def is_warning(self) -> bool:
        """A passed verdict that still names a failure category: worth a look, not a failure."""
        return self.status is VerdictStatus.PASSED and self.failure_category is not None

    @property
    def counts_as_failure(self) -> bool:
        """A failed or crashed check fails the case; a skipped one does not."""
        return self.status in (VerdictStatus.FAILED, VerdictStatus.ERRORED)
