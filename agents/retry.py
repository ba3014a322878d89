"""Retry a trial whose agent could not be reached, a bounded number of times, with backoff.

Only transport errors are retried (connection refused or reset, DNS, TLS: `ErrorKind.TRANSPORT`):
the agent never gave an answer, so trying again judges the agent rather than the network. An
answer of any kind, even an HTTP 500, a timeout or garbage, is the agent's and is never retried.
A retried trial is played again from its first turn in a new session; `Trajectory.attempts` says
how many tries it took.
"""

import asyncio
import random

from trailcheck.agents.base import AgentAdapter
from trailcheck.models import Case, ErrorKind, Trajectory

MAX_RETRIES = 10


def backoff_s(attempt: int, base_s: float = 0.2, cap_s: float = 5.0) -> float:
    """Seconds to wait before retry `attempt` (1-based): exponential, capped, with jitter."""
    return min(cap_s, base_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


class RetryingAdapter:
    """Wraps an adapter: a trial that ends in a transport error is tried again, up to `retries` times."""

    def __init__(self, inner: AgentAdapter, retries: int, base_backoff_s: float = 0.2) -> None:
        if not 0 <= retries <= MAX_RETRIES:
            raise ValueError(f"retries must be between 0 and {MAX_RETRIES}, got {retries}")
        self.inner, self.retries, self.base_backoff_s = inner, retries, base_backoff_s

    async def run(self, case: Case, trial: int) -> Trajectory:
        attempt = 1
        while True:
            trajectory = await self.inner.run(case, trial)
            if trajectory.error_kind is not ErrorKind.TRANSPORT or attempt > self.retries:
                return trajectory if attempt == 1 else trajectory.model_copy(update={"attempts": attempt})
            await asyncio.sleep(backoff_s(attempt, self.base_backoff_s))
            attempt += 1

    async def aclose(self) -> None:
        await self.inner.aclose()
