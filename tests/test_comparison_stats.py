"""The statistical verdict against a baseline: exact test per case, Holm over cases, flaky vs regressed."""

import random
from datetime import UTC, datetime
from math import comb
from pathlib import Path

import pytest

from trailcheck import db
from trailcheck.analysis.comparison import (
    case_shifts,
    compare_with_baseline,
    drop_p_value,
    holm_adjust,
    regressed_case_ids,
)
from trailcheck.models import CaseStatus, CaseSummary, RunResult


def summary(case_id: str, passes: int, trials: int, cost: float | None = None) -> CaseSummary:
    return CaseSummary(
        case_id=case_id,
        trials=trials,
        passes=passes,
        pass_at_1=passes / trials,
        reason="" if passes == trials else "final_answer: wrong",
        cost_usd=cost,
        latency_s=0.5,
    )


def run_of(run_id: str, cases: list[CaseSummary], agent_version: str = "v1") -> RunResult:
    k = min(c.trials for c in cases)
    return RunResult(
        run_id=run_id,
        suite="s",
        suite_version="1",
        agent_version=agent_version,
        trials=k,
        started_at=datetime(2026, 11, 25, tzinfo=UTC),
        cases=cases,
        pass_at_1=sum(c.pass_at_1 for c in cases) / len(cases),
        pass_hat_k={1: sum(c.pass_at_1 for c in cases) / len(cases)},
    )


def hypergeometric_tail(b: int, nb: int, c: int, n: int) -> float:
    """P(X >= b) for X the baseline's passes given all passes, drawn without replacement."""
    total, fails = b + c, nb + n - b - c
    denominator = comb(nb + n, nb)
    return sum(comb(total, x) * comb(fails, nb - x) for x in range(b, min(total, nb) + 1)) / denominator


@pytest.mark.parametrize(
    ("b", "nb", "c", "n"),
    [(1, 1, 0, 1), (5, 5, 0, 5), (5, 5, 4, 5), (10, 10, 2, 10), (3, 5, 4, 5), (7, 9, 1, 6)],
)
def test_p_value_is_the_one_sided_exact_tail(b: int, nb: int, c: int, n: int) -> None:
    assert drop_p_value(b, nb, c, n) == pytest.approx(hypergeometric_tail(b, nb, c, n), rel=1e-9)


def test_known_values() -> None:
    assert drop_p_value(1, 1, 0, 1) == pytest.approx(0.5)  # one trial each can never be significant
    assert drop_p_value(5, 5, 0, 5) == pytest.approx(1 / 252)
    assert drop_p_value(3, 5, 5, 5) == pytest.approx(1.0)  # better now: no evidence of a drop


def test_holm() -> None:
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_adjust([]) == []
    assert holm_adjust([0.5, 0.9]) == pytest.approx([1.0, 1.0])


def test_flaky_case_is_not_a_regression_and_does_not_block() -> None:
    baseline = run_of("b", [summary("steady", 5, 5), summary("flaky", 5, 5)])
    current = [summary("steady", 5, 5), summary("flaky", 3, 5)]
    comparison = compare_with_baseline(baseline, current)
    assert comparison.regressions == []
    assert [f.case_id for f in comparison.flaky] == ["flaky"]
    assert comparison.flaky[0].adjusted_p_value > 0.05
    now = run_of("c", current).model_copy(update={"comparison": comparison})
    assert now.ok and now.blocking_cases() == []
    # Without a baseline the same run fails: every case must pass every trial.
    assert not run_of("c", current).ok


def test_significant_drop_and_consistent_break_are_regressions() -> None:
    baseline = run_of("b", [summary("drop", 10, 10), summary("break", 1, 1), summary("same", 10, 10)])
    current = [summary("drop", 2, 10), summary("break", 0, 1), summary("same", 10, 10)]
    comparison = compare_with_baseline(baseline, current)
    by_id = {r.case_id: r for r in comparison.regressions}
    assert set(by_id) == {"drop", "break"}
    assert by_id["drop"].significant and by_id["drop"].shift is not None
    assert by_id["drop"].shift.adjusted_p_value < 0.05
    assert not by_id["break"].significant  # called because it broke every trial, not by the test
    assert regressed_case_ids(baseline.cases, current) == ["drop", "break"]
    assert not run_of("c", current).model_copy(update={"comparison": comparison}).ok


def test_failing_in_both_runs_still_blocks_and_new_cases_are_listed() -> None:
    baseline = run_of("b", [summary("known-bad", 0, 3)])
    current = [summary("known-bad", 0, 3), summary("new", 1, 3)]
    comparison = compare_with_baseline(baseline, current)
    assert comparison.regressions == [] and comparison.flaky == []
    assert comparison.missing_in_baseline == ["new"]
    result = run_of("c", current).model_copy(update={"comparison": comparison})
    assert [c.case_id for c in result.blocking_cases()] == ["known-bad", "new"]


def test_fixed_cost_and_latency_against_the_baseline() -> None:
    baseline = run_of("b", [summary("a", 1, 3, cost=0.002), summary("b", 3, 3, cost=0.004)])
    current = [summary("a", 3, 3, cost=0.001), summary("b", 3, 3, cost=0.001)]
    comparison = compare_with_baseline(baseline, current)
    assert comparison.fixed == ["a"]
    assert comparison.baseline_cost_per_case_usd == pytest.approx(0.003)
    assert comparison.baseline_latency_per_case_s == pytest.approx(0.5)
    assert comparison.baseline_pass_at_1 == pytest.approx((1 / 3 + 1) / 2)
    assert run_of("c", current).cost_per_case_usd == pytest.approx(0.001)


def test_false_alarm_rate_stays_within_alpha_on_a_stable_flaky_agent() -> None:
    """An agent that did not change (every case passes 80% of trials) is rarely called regressed."""
    rng = random.Random(7)
    cases, trials, runs = 20, 10, 300

    def draw() -> list[CaseSummary]:
        return [
            summary(f"c{i}", sum(rng.random() < 0.8 for _ in range(trials)), trials) for i in range(cases)
        ]

    false_alarms = sum(bool(regressed_case_ids(draw(), draw())) for _ in range(runs))
    assert false_alarms / runs <= 0.05


def test_a_real_drop_is_found_among_flaky_cases() -> None:
    rng = random.Random(11)
    found = 0
    for _ in range(50):
        before = [summary(f"c{i}", sum(rng.random() < 0.8 for _ in range(10)), 10) for i in range(20)]
        after = [summary(f"c{i}", sum(rng.random() < 0.8 for _ in range(10)), 10) for i in range(19)]
        before.append(summary("broken", 10, 10))
        after.append(summary("broken", sum(rng.random() < 0.1 for _ in range(10)), 10))
        found += "broken" in regressed_case_ids(before, after)
    assert found >= 45


def test_shifts_cover_only_cases_in_both_runs() -> None:
    shifts = case_shifts([summary("a", 2, 2)], [summary("a", 1, 2), summary("b", 0, 2)])
    assert [(s.case_id, s.baseline_passes, s.passes) for s in shifts] == [("a", 2, 1)]


def test_latest_accepted_run_skips_runs_that_failed_their_gate(tmp_path: Path) -> None:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'r.db'}")
    good = run_of("good", [summary("a", 2, 2)], "v1")
    bad = run_of("bad", [summary("a", 0, 2)], "v2").model_copy(
        update={"started_at": datetime(2026, 11, 26, tzinfo=UTC)}
    )
    for r in (good, bad):
        db.start_run(engine, r)
        db.finish_run(engine, r)
    assert bad.cases[0].status is CaseStatus.FAILED
    accepted = db.latest_accepted_run(engine, "s", exclude_run_id="new")
    assert accepted is not None and accepted.run_id == "good"
    assert db.latest_accepted_run(engine, "s", exclude_run_id="good") is None
    assert db.latest_run(engine, "s").run_id == "bad"  # type: ignore[union-attr]
