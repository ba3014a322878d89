"""Sampling: deterministic by seed and trace id, stratified with minimums, rules, a fixed-size reservoir."""

import random

from tests.live_data import trace_dict
from trailcheck.analysis.sampling import Sampler, sample_key
from trailcheck.models import Trace
from trailcheck.models.sampling import AlwaysInclude, SampleReason, SamplingPolicy


def _traces(n: int, task_types: dict[str, float], seed: int = 1) -> list[Trace]:
    rng = random.Random(seed)
    names, weights = list(task_types), list(task_types.values())
    return [Trace.model_validate(trace_dict(i, rng.choices(names, weights)[0])) for i in range(n)]


def _ids(policy: SamplingPolicy, traces: list[Trace]) -> list[str]:
    return sorted(s.trace.trace_id or "" for s in Sampler(policy).sample(traces))


def test_a_rerun_samples_the_same_traces_in_any_order_and_another_seed_others() -> None:
    traces = _traces(5000, {"refund": 1, "status": 1})
    policy = SamplingPolicy(rate=0.1, seed=42, always_include=AlwaysInclude(errored=False, escalated=False))
    first = _ids(policy, traces)
    shuffled = traces[:]
    random.Random(3).shuffle(shuffled)
    assert _ids(policy, shuffled) == first
    assert 400 < len(first) < 600  # 10% of 5000, binomial sd ~21
    other = _ids(policy.model_copy(update={"seed": 43}), traces)
    assert len(set(first) & set(other)) < 0.2 * len(first)  # independent draws overlap ~10%
    # The key is a function of (seed, id) only.
    assert sample_key(42, traces[0]) == sample_key(42, traces[0].model_copy(update={"cost": 9.0}))


def test_every_task_type_gets_its_minimum_and_the_rate_part_stays_uniform() -> None:
    traces = _traces(4000, {"refund": 0.97, "rare": 0.02, "rarer": 0.01})
    policy = SamplingPolicy(rate=0.01, min_per_task_type=15, always_include=AlwaysInclude(errored=False))
    sample = list(Sampler(policy).sample(traces))
    by_type: dict[str, int] = {}
    for s in sample:
        by_type[s.trace.task_type or ""] = by_type.get(s.trace.task_type or "", 0) + 1
    assert by_type["rare"] >= 15 and by_type["rarer"] >= 15
    assert by_type["refund"] >= 15
    assert len({s.trace.trace_id for s in sample}) == len(sample)  # nobody twice
    assert all(s.uniform for s in sample)
    # The minimum is the smallest keys of the stratum: deterministic, and the rate picks are among them.
    rare_keys = sorted(sample_key(0, t) for t in traces if t.task_type == "rarer")
    chosen = sorted(s.key for s in sample if s.trace.task_type == "rarer")
    assert chosen == rare_keys[: len(chosen)]


def test_rules_always_include_errors_escalations_high_cost_and_low_confidence() -> None:
    traces = [Trace.model_validate(trace_dict(i)) for i in range(200)]
    traces += [
        Trace.model_validate(trace_dict(1000, tool_error=True)),
        Trace.model_validate(trace_dict(1001, escalated=True)),
        Trace.model_validate(trace_dict(1002, cost=0.5)),
        Trace.model_validate(trace_dict(1003, confidence=0.1)),
        Trace.model_validate(trace_dict(1004, completed=False)),
    ]
    policy = SamplingPolicy(rate=0.0, always_include=AlwaysInclude(cost_above=0.1, confidence_below=0.3))
    sampler = Sampler(policy)
    sample = {s.trace.trace_id: s for s in sampler.sample(traces)}
    assert {k: v.reasons for k, v in sample.items()} == {
        "t-001000": [SampleReason.ERRORED],
        "t-001001": [SampleReason.ESCALATED],
        "t-001002": [SampleReason.HIGH_COST],
        "t-001003": [SampleReason.LOW_CONFIDENCE],
        "t-001004": [SampleReason.ERRORED],
    }
    assert not any(s.uniform for s in sample.values())
    capped = Sampler(policy.model_copy(update={"max_always_included": 2}))
    assert len(list(capped.sample(traces))) == 2
    assert capped.stats.always_dropped == 3


def test_reservoir_keeps_a_fixed_size_whatever_the_stream_length() -> None:
    policy = SamplingPolicy(
        rate=1.0, max_size=50, always_include=AlwaysInclude(errored=False, escalated=False)
    )
    for n in (30, 1000, 5000):
        traces = _traces(n, {"a": 1}, seed=n)
        sample = list(Sampler(policy).sample(traces))
        assert len(sample) == min(n, 50)
        assert all(s.reasons == [SampleReason.RESERVOIR] for s in sample)
        keys = sorted(sample_key(0, t) for t in traces)
        assert sorted(s.key for s in sample) == keys[:50]  # bottom-k by hash: uniform and deterministic


def test_a_rule_included_trace_that_is_also_a_stratum_minimum_is_emitted_once_and_counted_uniform() -> None:
    traces = [Trace.model_validate(trace_dict(i, "rare", tool_error=True)) for i in range(3)]
    sampler = Sampler(SamplingPolicy(rate=0.0, min_per_task_type=5))
    sample = list(sampler.sample(traces))
    assert len(sample) == 3
    assert all(s.reasons == [SampleReason.ERRORED, SampleReason.STRATUM] and s.uniform for s in sample)


def test_a_fixed_size_sample_with_minimums_keeps_both_and_rules_on_top() -> None:
    traces = _traces(3000, {"big": 0.98, "tiny": 0.02}, seed=9)
    traces.append(Trace.model_validate(trace_dict(9999, "big", escalated=True)))
    policy = SamplingPolicy(
        rate=1.0, max_size=100, min_per_task_type=20, always_include=AlwaysInclude(errored=False)
    )
    first = list(Sampler(policy).sample(traces))
    uniform = [s for s in first if s.uniform]
    reservoir = [s for s in first if SampleReason.RESERVOIR in s.reasons]
    assert len(reservoir) == 100
    assert sum(s.task_type == "tiny" for s in uniform) >= 20  # the minimum on top of the reservoir
    assert any(s.trace_id == "t-009999" and SampleReason.ESCALATED in s.reasons for s in first)
    assert len({s.trace_id for s in first}) == len(first)
    again = list(Sampler(policy).sample(reversed(traces)))
    assert sorted((s.trace_id, tuple(s.reasons)) for s in again) == sorted(
        (s.trace_id, tuple(s.reasons)) for s in first
    )
