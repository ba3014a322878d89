"""pass@1 and pass^k, checked against tau-bench's own trajectories and rewards."""

import json
from pathlib import Path

import pytest

from trailcheck.analysis.reliability import pass_hat_k, suite_reliability, summarize_cases
from trailcheck.models import CaseResult, Verdict, VerdictStatus
from trailcheck.models.openai_messages import trajectory_from_messages

# An unchanged copy of ../shared/conformance (see tests/conformance/README.md), so a clean clone has it.
TAU_BENCH = Path(__file__).parent / "conformance/tau-bench/gpt-4o-airline.sample.json"


def tau_bench_results() -> list[CaseResult]:
    """Each record becomes a scored trial; the benchmark's reward is the pass signal."""
    results = []
    for record in json.loads(TAU_BENCH.read_text()):
        case_id = f"airline-{record['task_id']}"
        trajectory = trajectory_from_messages(record["traj"], case_id, record["trial"])
        status = VerdictStatus.PASSED if record["reward"] == 1 else VerdictStatus.FAILED
        verdict = Verdict(check="tau_bench_reward", status=status, score=float(record["reward"]))
        results.append(
            CaseResult(case_id=case_id, trial=record["trial"], trajectory=trajectory, verdicts=[verdict])
        )
    return results


def test_tau_bench_pass_hat_k_matches_the_published_numbers() -> None:
    summaries = summarize_cases(tau_bench_results())
    assert len(summaries) == 24 and all(s.trials == 4 for s in summaries)
    pass_at_1, hat = suite_reliability(summaries)
    assert round(pass_at_1, 4) == 0.4375
    assert [round(hat[k], 4) for k in (1, 2, 3, 4)] == [0.4375, 0.2847, 0.2292, 0.2083]


def test_tau_bench_trajectories_keep_tool_calls_and_errors() -> None:
    results = tau_bench_results()
    calls = [c for r in results for c in r.trajectory.tool_calls]
    assert len(calls) == 543  # every assistant tool call in the file
    assert sum(c.failed for c in calls) == 47  # every tool result starting with "Error:"
    assert all(c.result is not None for c in calls)
    assert all(r.trajectory.final_answer for r in results)


@pytest.mark.parametrize(
    ("c", "n", "k", "expected"),
    [(4, 4, 4, 1.0), (0, 4, 1, 0.0), (2, 4, 2, 1 / 6), (3, 4, 1, 0.75), (3, 4, 4, 0.0)],
)
def test_pass_hat_k(c: int, n: int, k: int, expected: float) -> None:
    assert pass_hat_k(c, n, k) == pytest.approx(expected)


def test_pass_hat_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="between 0 and trials"):
        pass_hat_k(5, 4, 1)
    with pytest.raises(ValueError, match="number of trials"):
        pass_hat_k(1, 4, 5)
