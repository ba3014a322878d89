"""The outcome of a long-session test: how well an early constraint survives as a session grows."""

from pydantic import BaseModel, Field, computed_field

from trailcheck.models.failure import FailureCategory


class SessionPlan(BaseModel):
    """One case of a long-session test: its scenario, the filler turns it adds and its length in turns."""

    case_id: str
    scenario: str
    fillers: int = Field(ge=0)
    turns: int = Field(ge=2)


class RetentionPoint(BaseModel):
    """Every trial of every scenario at one session length."""

    fillers: int = Field(ge=0, description="Filler turns between the planted constraint and the probe.")
    turns: int = Field(
        ge=2, description="Turns in the whole session (plant, fillers, probe); the longest scenario's."
    )
    passes: int = Field(ge=0)
    trials: int = Field(ge=0)
    errored: int = Field(default=0, ge=0)
    reason: str = Field(default="", description="Why the first failing trial at this length failed.")

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know a decorator over @property
    @property
    def pass_rate(self) -> float:
        """Passing trials over all trials at this length (0 when nothing ran)."""
        return self.passes / self.trials if self.trials else 0.0


class RetentionReport(BaseModel):
    """The retention curve of one agent and where it starts to fail."""

    suite: str
    scenarios: list[str]
    agent_version: str
    run_id: str
    flow_run_url: str | None = None
    threshold: float = Field(ge=0, le=1, description="A length fails when its pass rate is below this.")
    failure_category: FailureCategory = FailureCategory.CONTEXT_SATURATION
    points: list[RetentionPoint]

    @property
    def first_failing(self) -> RetentionPoint | None:
        """The shortest session whose pass rate is below the threshold: where the agent starts to fail."""
        return next((p for p in self.points if p.pass_rate < self.threshold), None)

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know a decorator over @property
    @property
    def fails_from_fillers(self) -> int | None:
        """Filler turns of the shortest failing session (None: the agent never dropped below threshold)."""
        first = self.first_failing
        return first.fillers if first else None

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know a decorator over @property
    @property
    def ok(self) -> bool:
        """True when every session length meets the threshold."""
        return self.first_failing is None
