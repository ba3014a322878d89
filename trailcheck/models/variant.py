"""A case derived from another by a perturbation (typos, a missing detail, an injection, ...)."""

from pydantic import BaseModel, Field

from trailcheck.models.case import Case


class Variant(BaseModel):
    """A derived case and where it came from, so a person can review it before committing it."""

    case: Case
    original_id: str
    kind: str = Field(description="The perturbation that derived it, e.g. typo, missing-detail, injection.")
    note: str = Field(default="", description="What changed and why the expectations are what they are.")
