"""Retry a trial whose agent could not be reached, a bounded number of times, with backoff.

Only transport errors are retried (connection refused or reset, DNS, TLS: `ErrorKind.TRANSPORT`):
the agent never gave an answer, so trying again judges the agent rather than the network. An
answer of any kind, even an HTTP 500, a timeout or garbage, is the agent's and is never retried.
A retried trial is played again from its first turn in a new session; `Trajectory.attempts` says
how many tries it took. The wait between tries holds no concurrency slot (`slot`): other trials run
meanwhile.

An agent that is down stays down: `AgentBreaker` counts a run's unreachable tries in a row (a
retry is a try), and after `threshold` of them the remaining trials are errored at once with that
reason instead of each waiting out its retries (660 trials with 10 retries each would otherwise
take most of an hour).
"""

import asyncio
import os
import random
import threading
from contextlib import AbstractAsyncContextManager, nullcontext

from trailcheck.agents.base import AgentAdapter
from trailcheck.models import Case, ErrorKind, Trajectory, TrajectoryStatus

MAX_RETRIES = 10
BREAKER_ENV = "TRAILCHECK_AGENT_BREAKER"
DEFAULT_BREAKER = 5


def backoff_s(attempt: int, base_s: float = 0.2, cap_s: float = 5.0) -> float:
    """Seconds to wait before retry `attempt` (1-based): exponential, capped, with jitter."""
    return min(cap_s, base_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class RetryingAdapter:
    """Wraps an adapter: a trial that ends in a transport error is tried again, up to `retries` times."""

    def __init__(self, inner: AgentAdapter, retries: int, base_backoff_s: float = 0.2) -> None:
        if not 0 <= retries <= MAX_RETRIES:
            raise ValueError(f"retries must be between 0 and {MAX_RETRIES}, got {retries}")
        self.inner, self.retries, self.base_backoff_s = inner, retries, base_backoff_s
        # The caller's concurrency limit, held for each try and released while waiting to retry.
        self.slot: AbstractAsyncContextManager[object] | None = None
        self.breaker: AgentBreaker | None = None

    async def run(self, case: Case, trial: int) -> Trajectory:
        attempt = 1
        while True:
            async with self.slot or nullcontext():
                if attempt == 1 and self.breaker is not None and self.breaker.is_open:
                    return self.breaker.skipped(case, trial)  # it opened while this trial waited
                trajectory = await self.inner.run(case, trial)
            if self.breaker is not None:
                self.breaker.record(trajectory)
            if self.breaker is not None and self.breaker.is_open:  # the agent is down: stop retrying
                return trajectory if attempt == 1 else trajectory.model_copy(update={"attempts": attempt})
            if trajectory.error_kind is not ErrorKind.TRANSPORT or attempt > self.retries:
                return trajectory if attempt == 1 else trajectory.model_copy(update={"attempts": attempt})
            await asyncio.sleep(backoff_s(attempt, self.base_backoff_s))
            attempt += 1

    async def aclose(self) -> None:
        await self.inner.aclose()


class AgentBreaker:
    """Counts a run's unreachable tries in a row; once `threshold` is reached the agent is down.

    Any answer from the agent (even an error of its own) resets the count. Thread-safe: the shards
    of a run share one breaker (`for_run`).
    """

    def __init__(self, threshold: int = DEFAULT_BREAKER) -> None:
        self.threshold = max(1, threshold)
        self.consecutive = 0
        self.reason = ""
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.consecutive >= self.threshold

    def record(self, trajectory: Trajectory) -> None:
        """Count the outcome of one try."""
        with self._lock:
            if trajectory.error_kind is ErrorKind.TRANSPORT:
                self.consecutive += 1
                self.reason = trajectory.error or "the agent could not be reached"
            else:
                self.consecutive = 0

    def skipped(self, case: Case, trial: int) -> Trajectory:
        """The errored trial that stands for one not run because the agent is down."""
        return Trajectory(
            case_id=case.id,
            trial=trial,
            status=TrajectoryStatus.ERRORED,
            error_kind=ErrorKind.TRANSPORT,
            error=f"not run: the agent could not be reached in {self.consecutive} tries in a row "
            f"(last: {self.reason})",
        )


_run_breakers: dict[str, AgentBreaker] = {}
_run_breakers_lock = threading.Lock()


def breaker_threshold() -> int:
    """Unreachable trials in a row that stop a run's remaining ones: $TRAILCHECK_AGENT_BREAKER, else 5."""
    try:
        return max(1, int(os.environ.get(BREAKER_ENV) or DEFAULT_BREAKER))
    except ValueError:
        return DEFAULT_BREAKER


def for_run(run_id: str) -> AgentBreaker:
    """The breaker shared by every shard of this run in this process."""
    with _run_breakers_lock:
        breaker = _run_breakers.get(run_id)
        if breaker is None:
            breaker = _run_breakers[run_id] = AgentBreaker(breaker_threshold())
        return breaker
