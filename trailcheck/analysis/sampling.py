"""Sample a stream of traces by `SamplingPolicy`: deterministic, stratified, bounded in memory.

Each trace gets a key, a hash of (seed, trace id) read as a number in [0, 1). Selection depends
only on keys, so the same traces are chosen on a rerun and in any order:

- rate: key < rate. Emitted as soon as it is read (unless a fixed size is asked).
- minimum per task type: the `min_per_task_type` smallest keys of each task type are kept
  (a bottom-k sample, uniform within the task type); the ones not already in the rate sample are
  emitted at the end of the stream.
- fixed size (`max_size`): the `max_size` smallest keys among the rate sample, a reservoir
  sample (priority sampling with hash keys instead of random draws) emitted at the end.
- always-include rules (errored, escalated, high cost, low confidence): emitted as read, up to
  `max_always_included`; beyond it they are counted, not kept.

Memory: the bottom-k heaps hold `min_per_task_type` traces per task type and `max_size` traces.
"""

import hashlib
import heapq
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from trailcheck.models import Trace
from trailcheck.models.openai_messages import tool_message_failed
from trailcheck.models.sampling import UNIFORM_REASONS, SampleReason, SamplingPolicy

_SCALE = float(2**64)


def sample_key(seed: int, trace: Trace) -> float:
    """The trace's key in [0, 1): a hash of the seed and the trace id (of the messages without an id)."""
    ident = (
        trace.trace_id if trace.trace_id is not None else Trace.model_dump_json(trace, include={"messages"})
    )
    digest = hashlib.blake2b(f"{seed}\x1f{ident}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / _SCALE


def task_type_of(trace: Trace) -> str:
    """The trace's task type; traces without one form the `unknown` stratum."""
    return trace.task_type or "unknown"


def trace_errored(trace: Trace) -> bool:
    """A tool call failed or the task is recorded as not completed."""
    return trace.completed is False or any(tool_message_failed(m) for m in trace.messages)


@dataclass
class SampledTrace:
    """A trace chosen for scoring, with why it was chosen and its sampling key.

    The trace is kept as its JSON text (about a fifth of the parsed object's memory), with the few
    fields sampling and metrics need; `trace` parses it again. A trace emitted by a rule can turn
    out, at the end of the stream, to be in the uniform part too (a task type's minimum, the
    reservoir): `Sampler.finish` then adds that reason to the same object.
    """

    raw: str
    key: float
    reasons: list[SampleReason]
    trace_id: str | None = None
    task_type: str = "unknown"
    cost: float | None = None

    @classmethod
    def of(cls, trace: Trace, key: float, reasons: list[SampleReason]) -> "SampledTrace":
        """Keep `trace` compactly."""
        raw = trace.model_dump_json(exclude_none=True)
        return cls(raw, key, reasons, trace.trace_id, task_type_of(trace), trace.cost)

    @property
    def trace(self) -> Trace:
        """The trace, parsed again from its JSON."""
        return Trace.model_validate_json(self.raw)

    @property
    def uniform(self) -> bool:
        """In the uniform part of the sample, so it may stand for its task type's traffic."""
        return any(r in UNIFORM_REASONS for r in self.reasons)


# (negated key, trace id, position in the stream, the compact trace)
_HeapItem = tuple[float, str, int, SampledTrace]


@dataclass
class SamplingStats:
    """What the sampler saw and chose."""

    read: int = 0
    read_by_task_type: Counter[str] = field(default_factory=Counter)
    sampled_by_reason: Counter[str] = field(default_factory=Counter)
    always_dropped: int = 0


class Sampler:
    """Feed traces with `offer`; take the rest of the sample with `finish` at the end of the stream."""

    def __init__(self, policy: SamplingPolicy) -> None:
        self.policy = policy
        self.stats = SamplingStats()
        self._always = 0
        # Max-heaps by key (negated) of the k smallest keys: per task type, and the reservoir.
        self._strata: dict[str, list[_HeapItem]] = {}
        self._reservoir: list[_HeapItem] = []
        self._emitted: set[int] = set()  # indexes of emitted traces (only those in a heap are looked up)
        self._by_rule: dict[int, SampledTrace] = {}

    def _rules(self, trace: Trace) -> tuple[SampleReason, ...]:
        rules = self.policy.always_include
        reasons = []
        if rules.errored and trace_errored(trace):
            reasons.append(SampleReason.ERRORED)
        if rules.escalated and trace.escalated:
            reasons.append(SampleReason.ESCALATED)
        if rules.cost_above is not None and trace.cost is not None and trace.cost > rules.cost_above:
            reasons.append(SampleReason.HIGH_COST)
        if (
            rules.confidence_below is not None
            and trace.confidence is not None
            and trace.confidence < rules.confidence_below
        ):
            reasons.append(SampleReason.LOW_CONFIDENCE)
        return tuple(reasons)

    @staticmethod
    def _push(
        heap: list[_HeapItem], k: int, neg_key: float, tie: str, n: int, make: Callable[[], SampledTrace]
    ) -> None:
        # Max-heap by key through negated keys; the compact copy is made only for a trace that gets in.
        if len(heap) < k:
            heapq.heappush(heap, (neg_key, tie, n, make()))
        elif neg_key > heap[0][0]:
            heapq.heapreplace(heap, (neg_key, tie, n, make()))

    def offer(self, trace: Trace) -> SampledTrace | None:
        """Consider one trace; return it when it is sampled now (rate or rule), else None."""
        n = self.stats.read
        self.stats.read += 1
        stratum = task_type_of(trace)
        self.stats.read_by_task_type[stratum] += 1
        key = sample_key(self.policy.seed, trace)
        rules = self._rules(trace)
        in_rate = key < self.policy.rate
        reasons: list[SampleReason] = []
        if in_rate and self.policy.max_size is None:
            reasons.append(SampleReason.RATE)
        tie = trace.trace_id or ""
        made: list[SampledTrace] = []

        def make() -> SampledTrace:  # one compact copy shared by both heaps
            if not made:
                made.append(SampledTrace.of(trace, key, []))
            return made[0]

        if self.policy.min_per_task_type:
            heap = self._strata.setdefault(stratum, [])
            self._push(heap, self.policy.min_per_task_type, -key, tie, n, make)
        if in_rate and self.policy.max_size is not None:
            self._push(self._reservoir, self.policy.max_size, -key, tie, n, make)
        if rules:
            if self._always >= self.policy.max_always_included:
                self.stats.always_dropped += 1
                rules = ()
            else:
                self._always += 1
        reasons.extend(rules)
        if not reasons:
            return None
        self._emitted.add(n)
        sampled = self._count(SampledTrace.of(trace, key, reasons))
        if not sampled.uniform:
            self._by_rule[n] = sampled
        return sampled

    def _count(self, sampled: SampledTrace) -> SampledTrace:
        for reason in sampled.reasons:
            self.stats.sampled_by_reason[reason] += 1
        return sampled

    def _late(self, n: int, candidate: SampledTrace, reason: SampleReason, out: list[SampledTrace]) -> None:
        by_rule = self._by_rule.get(n)
        if by_rule is not None:
            if not by_rule.uniform:
                by_rule.reasons.append(reason)
                self.stats.sampled_by_reason[reason] += 1
            return
        if n in self._emitted:
            return
        self._emitted.add(n)
        candidate.reasons.append(reason)
        out.append(self._count(candidate))

    def finish(self) -> list[SampledTrace]:
        """The traces chosen only once the whole stream was seen: reservoir and task-type minimums.

        Traces already emitted are not emitted again; one emitted by a rule gets the uniform reason added.
        """
        out: list[SampledTrace] = []
        for _key, _tie, n, candidate in sorted(self._reservoir, key=lambda item: item[2]):
            self._late(n, candidate, SampleReason.RESERVOIR, out)
        for stratum in sorted(self._strata):
            for _key, _tie, n, candidate in sorted(self._strata[stratum], key=lambda item: item[2]):
                self._late(n, candidate, SampleReason.STRATUM, out)
        self._strata.clear()
        self._reservoir.clear()
        self._by_rule.clear()
        return out

    def sample(self, traces: Iterable[Trace]) -> Iterator[SampledTrace]:
        """Every sampled trace of `traces`: the ones chosen as read, then the late ones."""
        for trace in traces:
            chosen = self.offer(trace)
            if chosen is not None:
                yield chosen
        yield from self.finish()
