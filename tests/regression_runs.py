"""The regression flow called in-process by tests that study what a run found, whatever its verdict.

A run whose verdict fails it ends in a Failed state, and called in-process the flow raises
`VerdictFailedRun` with the whole result in `.run` (tests/test_verdict_state.py tests that mapping).
Tests about replay, scoring, storage or Slack read the result through `regression` here.
"""

from collections.abc import Callable
from typing import Any

from trailcheck.analysis.verdict import VerdictFailedRun
from trailcheck.flows.regression import regression as regression_flow
from trailcheck.models import RunResult


def result_of(flow: Callable[..., RunResult], **params: Any) -> RunResult:
    """Call `flow` (the regression flow, maybe `with_options`) and return its RunResult, FAIL or PASS."""
    try:
        return flow(**params)
    except VerdictFailedRun as failed:
        return failed.run


def regression(**params: Any) -> RunResult:
    """The regression flow's result for these parameters, whatever its verdict."""
    return result_of(regression_flow, **params)
