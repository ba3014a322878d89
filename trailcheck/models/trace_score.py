"""The judgement of the trace checks on one recorded trace (`trailcheck score`, live sampling)."""

from pydantic import BaseModel, Field

from trailcheck.models.verdict import Verdict


class TraceScore(BaseModel):
    """Each check's verdict on one trace, with where the trace came from."""

    trace_id: str | None = None
    line: int | None = Field(default=None, description="The line of the trace file it was read from.")
    verdicts: list[Verdict] = Field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A check failed or crashed on this trace (a skipped check does not count)."""
        return any(v.counts_as_failure for v in self.verdicts)
