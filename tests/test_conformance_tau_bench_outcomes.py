"""Verdicts against tau-bench's reward, over all 96 records of the sample (tests/conformance/tau-bench).

Every record becomes a case with one generic converter (tests/tau_bench.py: gold write actions,
expected outputs, a normal end); the recorded trajectory is scored by the same checks a replay
runs, and the verdict (every check passed) must agree with the reward (1) on at least 97% of the
records. The encoding that today's format allowed before this change (superset of the gold
writes with exact arguments, never_call on the other write tools, outputs in the last answer)
is measured beside it, and each new rule is switched off in turn to show what it is worth.
"""

import asyncio
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.tau_bench import WRITES, Record, case_of, records, trajectory_of
from trailcheck.checks import checks_for_case, score_trajectory
from trailcheck.models import Case, Trajectory, VerdictStatus

Disagreement = tuple[int, int, float, list[str]]


def _verdict(case: Case, trajectory: Trajectory) -> tuple[bool, list[str]]:
    result = asyncio.run(score_trajectory(case, trajectory, checks_for_case(case)))
    problems = [f"{v.check}: {v.reason}" for v in result.verdicts if v.status is not VerdictStatus.PASSED]
    return not problems, problems


def _agreement(
    data: list[Record], make_case: Callable[[Record], Case], text_is_reply: bool = False
) -> tuple[float, list[Disagreement]]:
    disagreements = []
    for record in data:
        passed, problems = _verdict(make_case(record), trajectory_of(record, text_is_reply))
        if passed != (record["reward"] == 1.0):
            disagreements.append((record["task_id"], record["trial"], record["reward"], problems))
    return 1 - len(disagreements) / len(data), disagreements


def _edited(case: Case, edit: Callable[[dict[str, Any]], None]) -> Case:
    data = case.model_dump(by_alias=True, exclude_unset=True)
    edit(data["expectations"])
    return Case.model_validate(data)


def _before(write_tools: list[str]) -> Callable[[Record], Case]:
    """Today's best encoding before effects, scope, reply scope and completed existed."""

    def make(record: Record) -> Case:
        task = record["info"]["task"]
        writes = [a for a in task["actions"] if re.search(WRITES, a["name"])]
        expectations: dict[str, Any] = {
            "checks": ["tool_call_failure"],
            "tool_calls": {
                "mode": "superset",
                "calls": [{"name": a["name"], "args": a["kwargs"]} for a in writes],
            },
            "never_call": [t for t in write_tools if t not in {a["name"] for a in writes}],
        }
        if task["outputs"]:
            expectations["final_answer"] = {"contains": task["outputs"]}
        return Case.model_validate({"id": "before", "turns": ["x"], "expectations": expectations})

    return make


@pytest.fixture(scope="module")
def data() -> list[Record]:
    return records()


def _show(label: str, agreement: float, disagreements: list[Disagreement]) -> None:
    print(f"\ntau-bench {label}: {agreement:.2%} agreement with the reward")
    for task, trial, reward, problems in disagreements:
        shown = "; ".join(p[:160] for p in problems) or "passed"
        print(f"  task {task} trial {trial} reward {reward:g}: {shown}")


def test_verdicts_agree_with_the_reward_on_at_least_97_percent(data: list[Record]) -> None:
    assert len(data) == 96
    agreement, disagreements = _agreement(data, case_of)
    _show("outcome encoding", agreement, disagreements)
    assert agreement >= 0.97
    write_tools = sorted(
        {
            c["function"]["name"]
            for r in data
            for m in r["traj"]
            for c in m.get("tool_calls") or []
            if re.search(WRITES, c["function"]["name"])
        }
    )
    before, before_disagreements = _agreement(data, _before(write_tools), text_is_reply=True)
    _show("encoding before this change", before, before_disagreements)
    assert before < agreement
    # What the old encoding got wrong were reward-1 trajectories: failed attempts counted as actions.
    assert all(reward == 1.0 for _, _, reward, _ in before_disagreements)


def _attempts(exp: dict[str, Any]) -> None:
    exp["count"] = "attempts"


def _last_reply(exp: dict[str, Any]) -> None:
    if "final_answer" in exp:
        exp["final_answer"]["in"] = "last"


def _no_completed(exp: dict[str, Any]) -> None:
    exp.pop("completed")


@pytest.mark.parametrize(
    ("rule", "edit", "wrongly"),
    [
        # A failed attempt (wrong payment id, then the right one) counted as an action.
        ("count: succeeded", _attempts, 1.0),
        # Task 2 trial 2 gave the refund amount in an earlier reply, not the last.
        ("final_answer in: any_reply", _last_reply, 1.0),
        # Task 46 trial 3 was cut off at the step limit with nothing wrong done yet.
        ("completed: true", _no_completed, 0.0),
    ],
)
def test_each_rule_moves_agreement(
    data: list[Record], rule: str, edit: Callable[[dict[str, Any]], None], wrongly: float
) -> None:
    full, _ = _agreement(data, case_of)
    without, disagreements = _agreement(data, lambda r: _edited(case_of(r), edit))
    _show(f"without {rule}", without, disagreements)
    assert without < full
    assert {reward for _, _, reward, _ in disagreements} == {wrongly}
