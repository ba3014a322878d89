"""A dead agent: the run's breaker errors the remaining trials at once, and retry waits hold no slot."""

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import RawHttpServer, closed_port
from tests.regression_runs import regression
from tests.test_agent_faults import ok
from trailcheck import db
from trailcheck.agents.config import HttpAgentConfig
from trailcheck.agents.factory import build_adapter
from trailcheck.agents.retry import RetryingAdapter
from trailcheck.models import Case, CaseStatus, ErrorKind, Trajectory


@pytest.fixture(scope="module")
def server() -> Iterator[RawHttpServer]:
    with RawHttpServer({"ok": ok}, default="ok") as s:
        yield s


def test_the_wait_before_a_retry_holds_no_concurrency_slot(server: RawHttpServer) -> None:
    """One slot: a trial retrying a dead agent does not keep a trial on a live agent waiting."""

    async def go() -> tuple[float, float]:
        slot = asyncio.Semaphore(1)
        dead = build_adapter(HttpAgentConfig(url=f"http://127.0.0.1:{closed_port()}/chat", retries=4))
        live = build_adapter(HttpAgentConfig(url=server.url, retries=4))
        assert isinstance(dead, RetryingAdapter) and isinstance(live, RetryingAdapter)
        dead.slot = live.slot = slot
        start = time.monotonic()

        async def timed(adapter: RetryingAdapter, message: str) -> float:
            t: Trajectory = await adapter.run(Case(id="c", turns=[message]), 0)
            assert t.attempts == (5 if adapter is dead else 1)
            return time.monotonic() - start

        dead_task = asyncio.create_task(timed(dead, "x"))
        await asyncio.sleep(0.05)  # the dead agent's first try has the slot, then waits to retry
        live_done = await timed(live, "ok")
        dead_done = await dead_task
        await dead.aclose()
        await live.aclose()
        return live_done, dead_done

    live_done, dead_done = asyncio.run(go())
    assert live_done < dead_done  # it ran while the other waited (backoff ~1.5-3 s in all)


@pytest.mark.usefixtures("prefect_harness")
def test_a_dead_agent_errors_the_remaining_trials_at_once(tmp_path: Path) -> None:
    n = 40
    cases = "".join(f"  - id: c{i:02d}\n    turns: [hello]\n" for i in range(n))
    suite = tmp_path / "dead.yaml"
    suite.write_text(f"name: dead\nversion: '1'\ncases:\n{cases}")
    agent = tmp_path / "agent.yaml"
    agent.write_text(f"kind: http\nurl: http://127.0.0.1:{closed_port()}/chat\nretries: 3\n")
    database = f"sqlite:///{tmp_path / 'r.db'}"
    run = regression(suite=str(suite), agent=str(agent), database_url=database, concurrency=4, run_id="dead")
    assert {c.status for c in run.cases} == {CaseStatus.ERRORED} and len(run.cases) == n
    trials = db.load_case_results(db.get_engine(database), "dead")
    tried = [t for t in trials if not (t.trajectory.error or "").startswith("not run:")]
    skipped = [t for t in trials if (t.trajectory.error or "").startswith("not run:")]
    # 5 in a row trip it; the trials already in flight finish their tries.
    assert len(tried) <= 5 + 4 and len(skipped) >= n - 9, [
        (t.trajectory.attempts, t.trajectory.error[:60]) for t in trials
    ]
    assert all(t.trajectory.error_kind is ErrorKind.TRANSPORT for t in trials)
    error = skipped[0].trajectory.error or ""
    assert re.search(r"could not be reached in \d+ tries in a row \(last: cannot reach agent", error)
