"""What the HTML report of a run shows: the run, its suite's history, and the other views beside it."""

from datetime import datetime

from pydantic import BaseModel, Field

from trailcheck.models.health import Anomaly, HealthWindow
from trailcheck.models.run import RunResult


class ReportData(BaseModel):
    """Everything one HTML report draws; a view with no data is drawn as a note saying how to get it."""

    suite: str
    generated_at: datetime
    run: RunResult | None = Field(default=None, description="The run the report is about (newest if none).")
    history: list[RunResult] = Field(default_factory=list, description="The suite's runs, oldest first.")
    baseline: RunResult | None = Field(default=None, description="The run `run` was compared with.")
    fault_run: RunResult | None = Field(default=None, description="The newest fault-matrix run of the suite.")
    retention_run: RunResult | None = Field(default=None, description="The newest long-session run.")
    windows: list[HealthWindow] = Field(default_factory=list, description="Live health windows, by start.")
    anomalies: list[Anomaly] = Field(default_factory=list)
