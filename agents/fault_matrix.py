"""Expand a suite into a fault matrix (each case x each tool it calls x each fault kind) and read it back.

A faulted case keeps what must hold whatever the tools do (tools never to call, limits,
budgets, claims the answer must never make, custom checks) and drops what a broken tool makes
impossible (the exact tool path, the answer's content, whether to escalate) and, for timeout and
slow faults, the latency budget (the time the tool is held is the fault's). It gains the
`FaultHandled` check: the broken call is recovered from, escalated, or admitted. A fault that
leaves the call working (slow, injection) keeps every expectation: the agent must still do the job.
"""

import asyncio
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trailcheck.agents.base import AgentAdapter
from trailcheck.models import (
    AssistantMessage,
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
    ToolCall,
    Trajectory,
    TrajectoryStatus,
)

FAULT_CHECK = "trailcheck.checks.fault_checks.FaultHandled"
_SEP = ":"


def case_id_of(case: Case, tool: str, kind: FaultKind) -> str:
    """The faulted case's id: ``refund-eligible:issue_refund:http_500``."""
    return _SEP.join((case.id, tool, kind.value))


def faulted_case(case: Case, tool: str, kind: FaultKind, schema_field: str | None = None) -> Case:
    """`case` with every call of `tool` hit by `kind` (instead of the case's own faults).

    `schema_field`: for schema_break, the field of the answer to break (one the agent used).
    """
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
            "faults": [FaultSpec(kind=kind, tool=tool, schema_field=schema_field)],
            "expectations": Expectations.model_validate(exp.model_dump()),
            "tags": [*case.tags, "fault", f"fault:{kind.value}", f"tool:{tool}"],
        }
    )


def expand(
    suite: Suite,
    tools_by_case: dict[str, list[str]],
    kinds: Sequence[FaultKind],
    schema_fields: dict[tuple[str, str], str | None] | None = None,
) -> Suite:
    """The matrix suite: one case per (case, tool it called, kind), in suite order.

    `schema_fields` holds, for the (case, tool) pairs whose answers have no schema, the field the
    agent used (None: it used none). schema_break then breaks that field, since a break of a field
    the agent never reads is invisible to it and judging it on one would fail a good agent; with
    no used field the cell is left out (`schema_break_skipped` says so). Pairs not in it have a
    schema, which chooses the field.

    A case that declares faults of its own is left out: it already tests one fault, and its
    expectations were written for that fault, so another fault in its place would judge the
    agent against the wrong story (a case expecting "could not" after an HTTP 500 would fail a
    good agent under a merely slow tool).
    """
    fields = schema_fields or {}
    cases = [
        faulted_case(
            case, tool, kind, fields.get((case.id, tool)) if kind is FaultKind.SCHEMA_BREAK else None
        )
        for case in suite.cases
        if not case.faults
        for tool in tools_by_case.get(case.id, [])
        for kind in kinds
        if not (
            kind is FaultKind.SCHEMA_BREAK and (case.id, tool) in fields and fields[(case.id, tool)] is None
        )
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


def schema_break_skipped(
    kinds: Sequence[FaultKind], schema_fields: dict[tuple[str, str], str | None]
) -> list[str]:
    """The notes saying which schema_break cells were left out for want of a schema."""
    if FaultKind.SCHEMA_BREAK not in kinds:
        return []
    return [
        f"schema_break of {tool} in {case_id} left out: its answer has no response schema and the "
        "agent used none of its fields; give the tool a response_schema (--tools tools.yaml) "
        "to break a field it checks"
        for (case_id, tool), chosen in schema_fields.items()
        if chosen is None
    ]


def fields_used(trajectory: Trajectory) -> dict[str, list[str]]:
    """Per tool, the fields of its answers whose values the agent then used (in a later call's
    arguments or in what it said), in answer order: what a break of the answer can visibly change."""
    steps = trajectory.steps
    used: dict[str, list[str]] = {}
    for i, step in enumerate(steps):
        if not isinstance(step, ToolCall):
            continue
        answer = step.result[0] if isinstance(step.result, list) and step.result else step.result
        if not isinstance(answer, dict):
            continue
        later = " ".join(
            json.dumps(s.args) if isinstance(s, ToolCall) else s.content
            for s in steps[i + 1 :]
            if isinstance(s, ToolCall | AssistantMessage)
        )
        for key, value in answer.items():
            if _telling(value) and str(value) in later:
                used.setdefault(step.name, [])
                if key not in used[step.name]:
                    used[step.name].append(key)
    return used


def _telling(value: object) -> bool:
    """A value specific enough that seeing it again means it was used (not `true`, `0` or `ok`)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return abs(value) >= 10 or not float(value).is_integer()
    return isinstance(value, str) and len(value) >= 3


@dataclass
class CleanReplay:
    """What the clean replay found: tools per case (first-call order), errored cases, and for each
    (case, tool) the answer fields the agent then used."""

    tools: dict[str, list[str]] = field(default_factory=dict)
    errored: list[str] = field(default_factory=list)
    used: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def schema_fields(self, with_schema: set[str]) -> dict[tuple[str, str], str | None]:
        """For tools not in `with_schema`: the field schema_break should break per (case, tool)."""
        return {
            (case_id, tool): next(iter(self.used.get((case_id, tool), [])), None)
            for case_id, tools in self.tools.items()
            for tool in tools
            if tool not in with_schema
        }


async def tools_called(adapter: AgentAdapter, cases: Iterable[Case], concurrency: int = 8) -> CleanReplay:
    """Replay each case once without faults: the tools each case called, errored cases, used fields."""
    limit = asyncio.Semaphore(concurrency)
    found = CleanReplay()
    tools, errored = found.tools, found.errored

    async def one(case: Case) -> None:
        async with limit:
            trajectory = await adapter.run(case.model_copy(update={"faults": []}), 0)
        if trajectory.status is not TrajectoryStatus.OK:
            errored.append(f"{case.id}: {trajectory.error}")
            return
        tools[case.id] = list(dict.fromkeys(c.name for c in trajectory.tool_calls))
        for tool, keys in fields_used(trajectory).items():
            found.used[(case.id, tool)] = keys

    await asyncio.gather(*(one(c) for c in cases))
    found.errored.sort()
    return found


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
