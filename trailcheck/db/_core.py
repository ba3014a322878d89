"""The SQLAlchemy Core tables behind the SQLModel classes, for bulk statements and `create_all`.

Bulk writes go through Core (one executemany per table) rather than one ORM object per row: a
run of 100,000 trials must be written in seconds, not minutes.
"""

from typing import Any, cast

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel

from trailcheck.db.live_tables import AnomalyRow, HealthWindowRow, LiveRunRow, LiveScoreRow, ReviewRow
from trailcheck.db.tables import (
    CaseResultRow,
    ContractOutcomeRow,
    ContractRunRow,
    RunRow,
    TrajectoryRow,
    VerdictRow,
)


def _table(model: type[SQLModel]) -> Table:
    # SQLAlchemy 2.0's stubs type inspect() of a class as optional; a mapped class always has a mapper.
    return cast(Table, cast(Any, inspect(model)).local_table)


RUNS = _table(RunRow)
CASE_RESULTS = _table(CaseResultRow)
TRAJECTORIES = _table(TrajectoryRow)
VERDICTS = _table(VerdictRow)
CONTRACT_RUNS = _table(ContractRunRow)
CONTRACT_OUTCOMES = _table(ContractOutcomeRow)
LIVE_RUNS = _table(LiveRunRow)
HEALTH_WINDOWS = _table(HealthWindowRow)
LIVE_SCORES = _table(LiveScoreRow)
ANOMALIES = _table(AnomalyRow)
REVIEWS = _table(ReviewRow)
ALL_TABLES = [
    RUNS,
    CASE_RESULTS,
    TRAJECTORIES,
    VERDICTS,
    CONTRACT_RUNS,
    CONTRACT_OUTCOMES,
    LIVE_RUNS,
    HEALTH_WINDOWS,
    LIVE_SCORES,
    ANOMALIES,
    REVIEWS,
]
