"""The series the HTML report draws, computed from stored runs (no plotting here).

Fault-matrix and long-session runs are ordinary regression runs whose case ids say what they are:
``case:tool:fault_kind`` (trailcheck/agents/fault_matrix.py) and ``scenario:fillers-N``
(trailcheck/variants/long_session); the report reads their cells and points back from the ids.
"""

import re
from collections import defaultdict

from pydantic import BaseModel

from trailcheck.analysis.comparison import case_shifts
from trailcheck.models import CaseShift, FaultKind, RunResult

_FILLERS = re.compile(r"^(?P<scenario>.+):fillers-(?P<fillers>\d+)$")
_KINDS = {k.value for k in FaultKind}


class HistoryPoint(BaseModel):
    """One run on the suite's timeline."""

    run_id: str
    started_at: str
    agent_version: str
    pass_at_1: float
    cost_per_case_usd: float | None
    ok: bool


class MatrixCell(BaseModel):
    """One tool under one fault kind: passed trials over trials."""

    tool: str
    kind: str
    passed: int
    trials: int


class RetentionPoint(BaseModel):
    """Pass rate at one number of filler turns."""

    fillers: int
    passed: int
    trials: int


def history_points(runs: list[RunResult]) -> list[HistoryPoint]:
    """The runs as points, oldest first."""
    ordered = sorted(runs, key=lambda r: r.started_at)
    return [
        HistoryPoint(
            run_id=r.run_id,
            started_at=r.started_at.isoformat(),
            agent_version=r.agent_version,
            pass_at_1=r.pass_at_1,
            cost_per_case_usd=r.cost_per_case_usd,
            ok=r.ok,
        )
        for r in ordered
    ]


def per_case(run: RunResult, baseline: RunResult | None) -> list[CaseShift]:
    """Every case of `run` with its pass counts then and now (the baseline's counts 0/0 when it had none)."""
    if baseline is None:
        return [
            CaseShift(
                case_id=c.case_id, baseline_passes=0, baseline_trials=0, passes=c.passes, trials=c.trials
            )
            for c in run.cases
        ]
    shifts = {s.case_id: s for s in case_shifts(baseline.cases, run.cases)}
    return [
        shifts.get(c.case_id)
        or CaseShift(
            case_id=c.case_id, baseline_passes=0, baseline_trials=0, passes=c.passes, trials=c.trials
        )
        for c in run.cases
    ]


def is_fault_matrix(run: RunResult) -> bool:
    """Whether every case id of the run reads ``case:tool:fault_kind``."""
    return bool(run.cases) and all(c.case_id.rsplit(":", 2)[-1] in _KINDS for c in run.cases)


def fault_cells(run: RunResult) -> list[MatrixCell]:
    """The tool x fault-kind cells of a fault-matrix run, tools and kinds in first-seen order."""
    cells: dict[tuple[str, str], MatrixCell] = {}
    for case in run.cases:
        parts = case.case_id.rsplit(":", 2)
        if len(parts) != 3 or parts[2] not in _KINDS:
            continue
        cell = cells.setdefault(
            (parts[1], parts[2]), MatrixCell(tool=parts[1], kind=parts[2], passed=0, trials=0)
        )
        cell.passed += case.passes
        cell.trials += case.trials
    return list(cells.values())


def is_long_session(run: RunResult) -> bool:
    """Whether every case id of the run reads ``scenario:fillers-N``."""
    return bool(run.cases) and all(_FILLERS.match(c.case_id) for c in run.cases)


def retention_points(run: RunResult) -> list[RetentionPoint]:
    """Pass counts per number of filler turns over every scenario, shortest sessions first."""
    totals: defaultdict[int, list[int]] = defaultdict(lambda: [0, 0])
    for case in run.cases:
        found = _FILLERS.match(case.case_id)
        if found:
            total = totals[int(found["fillers"])]
            total[0] += case.passes
            total[1] += case.trials
    return [RetentionPoint(fillers=n, passed=p, trials=t) for n, (p, t) in sorted(totals.items())]
