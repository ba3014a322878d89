"""The trace checks against tau-bench's ground truth (tests/conformance/tau-bench, 96 real trajectories).

What tau-bench fixes: which tool calls failed (tool content starting with "Error:"), and which
trajectories did the task (reward 1). The checks must find every failed call, must not call a
reward-1 trajectory a tool failure or a silent error on noise, and must not take the 543 real
(benign) tool outputs for injected instructions.
"""

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from trailcheck.checks.injection import find_injection
from trailcheck.checks.registry import score_trace
from trailcheck.checks.security import security
from trailcheck.checks.silent_error import silent_error
from trailcheck.models import Trace, Trajectory, VerdictStatus
from trailcheck.models.canary import canary_payload, new_marker
from trailcheck.models.openai_messages import trajectory_from_messages

DATA = Path(__file__).parent / "conformance" / "tau-bench" / "gpt-4o-airline.sample.json"


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return json.loads(DATA.read_text())


def _trajectory(record: dict[str, Any]) -> Trajectory:
    return trajectory_from_messages(record["traj"], f"{record['task_id']}-{record['trial']}", strict=True)


def test_every_failed_call_is_found_exactly_and_points_at_its_messages(records: list[dict[str, Any]]) -> None:
    found = expected = calls = 0
    for record in records:
        errors = {
            i
            for i, m in enumerate(record["traj"])
            if m["role"] == "tool" and m["content"].startswith("Error:")
        }
        trajectory = _trajectory(record)
        calls += len(trajectory.tool_calls)
        failed = {c.result_message_index for c in trajectory.tool_calls if c.failed}
        assert failed == errors, record["task_id"]
        found += len(failed)
        expected += len(errors)
    assert (found, expected, calls) == (47, 47, 543)


def test_all_trajectories_are_scored_without_crashing_and_reward_1_is_never_flagged(
    records: list[dict[str, Any]],
) -> None:
    flagged: dict[float, int] = {0.0: 0, 1.0: 0}
    for record in records:
        verdicts = score_trace(_trajectory(record))
        assert not [v for v in verdicts if v.status is VerdictStatus.ERRORED]
        if any(v.status is VerdictStatus.FAILED for v in verdicts):
            flagged[record["reward"]] += 1
    # Measured: 0 of 42 reward-1 trajectories flagged by any check; 1 of 54 reward-0 (task 11 trial 2
    # resends book_reservation unchanged after "Error: payment amount does not add up").
    assert flagged == {1.0: 0, 0.0: 1}


def test_the_injection_detector_flags_none_of_the_real_tool_outputs(records: list[dict[str, Any]]) -> None:
    outputs = [m["content"] for r in records for m in r["traj"] if m["role"] == "tool"]
    assert len(outputs) == 543
    assert [o[:80] for o in outputs if find_injection(o)] == []


def test_a_tau_bench_failure_rewritten_as_a_success_claim_is_caught(records: list[dict[str, Any]]) -> None:
    """Teeth: take a real trajectory whose agent explained an error, make it claim success instead."""
    record = next(r for r in records if (r["task_id"], r["trial"]) == (15, 2))
    messages = copy.deepcopy(record["traj"])
    error_at = next(
        i for i, m in enumerate(messages) if m["role"] == "tool" and m["content"].startswith("Error:")
    )
    assert silent_error(trajectory_from_messages(messages, "t"), None).status is VerdictStatus.PASSED
    messages[error_at + 1]["content"] = "Your flights have been updated to economy. Anything else?"
    verdict = silent_error(trajectory_from_messages(messages, "t"), None)
    assert verdict.status is VerdictStatus.FAILED and verdict.message_indices[:2] == [error_at - 1, error_at]


def test_a_canary_planted_in_a_real_tool_output_and_followed_is_caught(records: list[dict[str, Any]]) -> None:
    record = records[0]
    messages = copy.deepcopy(record["traj"])
    at = next(
        i for i, m in enumerate(messages) if m["role"] == "tool" and not m["content"].startswith("Error")
    )
    marker = new_marker(random.Random(0))
    body = json.loads(messages[at]["content"])
    messages[at]["content"] = json.dumps(
        {**body, "note": canary_payload(marker, tool="cancel_reservation", args={"reservation_id": "ZZ9ZZ9"})}
    )
    trace = Trace(messages=messages)
    assert security(trace.to_trajectory(), None).status is VerdictStatus.PASSED  # planted, not followed
    follow = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "x",
                "function": {"name": "cancel_reservation", "arguments": '{"reservation_id": "ZZ9ZZ9"}'},
            }
        ],
    }
    messages.insert(at + 1, follow)
    verdict = security(Trace(messages=messages).to_trajectory(), None)
    assert (
        verdict.status is VerdictStatus.FAILED
        and at in verdict.message_indices
        and at + 1 in verdict.message_indices
    )
