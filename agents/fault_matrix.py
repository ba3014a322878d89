"""Expand a suite into a fault matrix (each case x each tool it calls x each fault kind) and read it back.

A faulted case keeps what must hold whatever the tools do (tools never to call, limits,
budgets, claims the answer must never make, custom checks) and drops what a broken tool makes
impossible (the exact tool path, the answer's content, whether to escalate) and, for timeout and
slow faults, the latency budget (the time the tool is held is the fault's). It gains the
`FaultHandled` check: the broken call is recovered from, escalated, or admitted. A fault that
leaves the call working (slow, injection) keeps every expectation: the agent must still do the job.
"""

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from trailcheck.agents.base import AgentAdapter
from trailcheck.models import (
    Case,
    CaseSummary,
    CustomCheckSpec,
    Expectations,
    FaultCell,
    FaultKind,
    FaultMatrix,
    FaultSpec,
    FinalAnswerExpectation,
    Suite,
    TrajectoryStatus,
)

FAULT_CHECK = "trailcheck.checks.fault_checks.FaultHandled"
_SEP = ":"


def case_id_of(case: Case, tool: str, kind: FaultKind) -> str:
    """The faulted case's id: ``refund-eligible:issue_refund:http_500``."""
    return _SEP.join((case.id, tool, kind.value))


def faulted_case(case: Case, tool: str, kind: FaultKind) -> Case:
    """`case` with every call of `tool` hit by `kind` (instead of the case's own faults)."""
    exp = case.expectations
    if kind.breaks_the_call:
        kept = exp.final_answer.not_contains if exp.final_answer else []
        exp = exp.model_copy(
            update={
                "tool_calls": None,
                "state": [],  # the expected outcome went with the expected path
                "escalate": None,
                "final_answer": FinalAnswerExpectation(not_contains=kept) if kept else None,
            }
        )
    if kind in (FaultKind.TIMEOUT, FaultKind.SLOW) and exp.budgets and exp.budgets.max_latency_s is not None:
        # The time the tool is held is the fault's, not the agent's: a latency budget would only measure it.
        exp = exp.model_copy(update={"budgets": exp.budgets.model_copy(update={"max_latency_s": None})})
    exp = exp.model_copy(update={"custom": [*exp.custom, CustomCheckSpec(check=FAULT_CHECK)]})
    return case.model_copy(
        update={
            "id": case_id_of(case, tool, kind),
            "faults": [FaultSpec(kind=kind, tool=tool)],
            "expectations": Expectations.model_validate(exp.model_dump()),
            "tags": [*case.tags, "fault", f"fault:{kind.value}", f"tool:{tool}"],
        }
    )


def expand(suite: Suite, tools_by_case: dict[str, list[str]], kinds: Sequence[FaultKind]) -> Suite:
    """The matrix suite: one case per (case, tool it called, kind), in suite order.

    A case that declares faults of its own is left out: it already tests one fault, and its
    expectations were written for that fault, so another fault in its place would judge the
    agent against the wrong story (a case expecting "could not" after an HTTP 500 would fail a
    good agent under a merely slow tool).
    """
    cases = [
        faulted_case(case, tool, kind)
        for case in suite.cases
        if not case.faults
        for tool in tools_by_case.get(case.id, [])
        for kind in kinds
    ]
    if not cases:
        raise ValueError(
            f"no case of suite {suite.name!r} without faults of its own called a tool, "
            "so there is nothing to fault"
        )
    return Suite(
        name=f"{suite.name}-faults",
        version=suite.version,
        description=f"fault matrix of {suite.name}",
        cases=cases,
    )


def write_suite(suite: Suite, path: Path) -> Path:
    """Write `suite` as a suite YAML file that `load_suite` reads back to the same suite."""
    document = {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "cases": [c.model_dump(mode="json", exclude_defaults=True) for c in suite.cases],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


async def tools_called(
    adapter: AgentAdapter, cases: Iterable[Case], concurrency: int = 8
) -> tuple[dict[str, list[str]], list[str]]:
    """Replay each case once without faults: the tools each case called (first-call order), errored cases."""
    limit = asyncio.Semaphore(concurrency)
    tools: dict[str, list[str]] = {}
    errored: list[str] = []

    async def one(case: Case) -> None:
        async with limit:
            trajectory = await adapter.run(case.model_copy(update={"faults": []}), 0)
        if trajectory.status is not TrajectoryStatus.OK:
            errored.append(f"{case.id}: {trajectory.error}")
            return
        tools[case.id] = list(dict.fromkeys(c.name for c in trajectory.tool_calls))

    await asyncio.gather(*(one(c) for c in cases))
    return tools, sorted(errored)


def read_matrix(
    suite: Suite,
    tools_by_case: dict[str, list[str]],
    kinds: Sequence[FaultKind],
    summaries: Sequence[CaseSummary],
    agent_version: str,
    run_id: str,
    baseline_errors: list[str],
) -> FaultMatrix:
    """Fold the matrix run's case summaries into tool x kind cells."""
    by_id = {s.case_id: s for s in summaries}
    tools = list(dict.fromkeys(t for case in suite.cases for t in tools_by_case.get(case.id, [])))
    cells = []
    for tool in tools:
        for kind in kinds:
            ran = [
                (case.id, by_id[case_id_of(case, tool, kind)])
                for case in suite.cases
                if tool in tools_by_case.get(case.id, []) and case_id_of(case, tool, kind) in by_id
            ]
            cells.append(
                FaultCell(
                    tool=tool,
                    kind=kind,
                    cases=len(ran),
                    trials=sum(s.trials for _, s in ran),
                    passed=sum(s.passes for _, s in ran),
                    errored=sum(s.errored for _, s in ran),
                    failing_cases=[cid for cid, s in ran if s.passes < s.trials],
                )
            )
    return FaultMatrix(
        suite=suite.name,
        agent_version=agent_version,
        run_id=run_id,
        kinds=list(kinds),
        tools=tools,
        cells=cells,
        baseline_errors=baseline_errors,
    )
