"""The recorded-trace line format and its conversion to a Trajectory."""

import json

import pytest
from pydantic import ValidationError

from trailcheck.models import Trace, TrajectoryStatus


def _line() -> str:
    function = {"name": "issue_refund", "arguments": '{"order_id": "A1"}'}
    call = {"id": "c1", "type": "function", "function": function}
    return json.dumps(
        {
            "trace_id": "t-1",
            "task_type": "refund",
            "cost": 0.002,
            "tokens": {"input": 30, "output": 8},
            "escalated": False,
            "region": "eu",
            "messages": [
                {"role": "user", "content": "Refund A1"},
                {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "c1", "content": "{}", "error": "HTTP 503"},
                {"role": "assistant", "content": "Done, refunded."},
            ],
        }
    )


def test_trace_becomes_a_trajectory_with_the_recorded_error_and_metadata() -> None:
    trace = Trace.model_validate_json(_line())
    trajectory = trace.to_trajectory()
    assert trajectory.case_id == "t-1"
    assert trajectory.status is TrajectoryStatus.OK
    [call] = trajectory.tool_calls
    assert call.name == "issue_refund" and call.args == {"order_id": "A1"}
    assert call.failed and call.error == "HTTP 503"
    assert trajectory.final_answer == "Done, refunded."
    assert trajectory.cost_usd == 0.002 and trajectory.tokens.total == 38
    assert trace.model_extra == {"region": "eu"}


def test_trace_without_messages_is_refused() -> None:
    with pytest.raises(ValidationError, match="messages"):
        Trace.model_validate({"trace_id": "t-2", "messages": []})
