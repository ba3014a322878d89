"""What a run says about results the results database could not take when they completed."""

from pydantic import BaseModel, Field


class SpoolReport(BaseModel):
    """The run met a results-database failure: its results were kept in a local spool (JSONL).

    `spooled` trials were written to the spool instead of the database; `pending` is true when
    some were still there at the end of the run (the next run, or `trailcheck flush`, writes them).
    """

    spooled: int = Field(ge=0, description="Trials (and run records) written to the local spool.")
    pending: bool = Field(description="The spool still held records of this run when it ended.")
    path: str = Field(description="The run's spool file.")
    reason: str = Field(default="", description="The last database error (URL password masked).")
