"""The result of `trailcheck faults`: pass rates per tool and fault kind."""

from pydantic import BaseModel, Field

from trailcheck.models.fault import FaultKind


class FaultCell(BaseModel):
    """One tool under one fault kind, over every case that calls the tool."""

    tool: str
    kind: FaultKind
    cases: int = Field(ge=0, description="Cases that call the tool.")
    trials: int = Field(ge=0)
    passed: int = Field(ge=0)
    errored: int = Field(default=0, ge=0)
    failing_cases: list[str] = Field(
        default_factory=list, description="Cases with a trial that did not pass."
    )

    @property
    def pass_rate(self) -> float:
        """Passed trials over all trials (1.0 when nothing ran)."""
        return self.passed / self.trials if self.trials else 1.0


class FaultMatrix(BaseModel):
    """Every tool x fault kind cell of one run, and the run it came from."""

    suite: str
    agent_version: str
    run_id: str
    kinds: list[FaultKind]
    tools: list[str]
    cells: list[FaultCell]
    notes: list[str] = Field(
        default_factory=list, description="Cells left out, and why (e.g. schema_break with no schema)."
    )
    baseline_errors: list[str] = Field(
        default_factory=list, description="Cases whose clean replay errored (they join no cell)."
    )

    @property
    def ok(self) -> bool:
        """Whether every trial of every cell passed."""
        return all(c.passed == c.trials for c in self.cells) and not self.baseline_errors

    def cell(self, tool: str, kind: FaultKind) -> FaultCell | None:
        """The cell of `tool` under `kind`, if any case calls the tool."""
        return next((c for c in self.cells if c.tool == tool and c.kind == kind), None)
