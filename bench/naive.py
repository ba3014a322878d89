"""The design trailcheck avoids, for comparison: one Prefect task per case (what a typical user writes)."""

from datetime import UTC, datetime

from prefect import Flow, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from trailcheck import db
from trailcheck.agents.config import HttpAgentConfig
from trailcheck.agents.http_agent import HttpAgent
from trailcheck.checks import checks_for_case, score_trajectory
from trailcheck.loading.suite import load_suite
from trailcheck.models import Case, CaseResult, RunResult


@task(cache_policy=NO_CACHE)
async def replay_case(case: Case, agent_url: str, run_id: str, database_url: str) -> CaseResult:
    adapter = HttpAgent(HttpAgentConfig(url=agent_url))
    try:
        trajectory = await adapter.run(case, 0)
    finally:
        await adapter.aclose()
    result = await score_trajectory(case, trajectory, checks_for_case(case))
    db.record_case_results(db.get_engine(database_url), run_id, [result])
    return result


@flow(name="naive-regression")
def naive_regression(suite: str, agent_url: str, run_id: str, database_url: str) -> int:
    """Replay every case as its own task; returns how many passed."""
    loaded = load_suite(suite)
    started = RunResult(run_id=run_id, suite=loaded.name, suite_version=loaded.version, agent_version="naive",
                        trials=1, started_at=datetime.now(UTC))  # fmt: skip
    db.start_run(db.get_engine(database_url), started)
    cases = loaded.cases
    futures = [replay_case.submit(case, agent_url, run_id, database_url) for case in cases]
    return sum(f.result().status.value == "passed" for f in futures)


def with_concurrency(concurrency: int) -> Flow:
    """The naive flow with `concurrency` task threads."""
    return naive_regression.with_options(task_runner=ThreadPoolTaskRunner(max_workers=concurrency))
