"""Scale-out: the same regression flow with its shards on a local Dask cluster of two worker processes."""

from pathlib import Path

import pytest
from distributed import LocalCluster

from tests.regression_runs import regression, regression_flow, result_of
from trailcheck.models import RunResult
from trailcheck.tasks.run_setup import shard_task_runner

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")

pytestmark = pytest.mark.usefixtures("prefect_harness")


def outcome(run: RunResult) -> list[tuple]:
    return [
        (c.case_id, c.trials, c.passes, c.errored, c.reason, c.failure_category, c.cost_usd)
        for c in run.cases
    ]


def test_shards_run_on_several_dask_workers_with_identical_results(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'results.db'}"
    params = {"suite": SUITE, "agent": "reference:v2", "trials": 2, "concurrency": 4, "shard_size": 2}
    local = regression(database_url=url, **params)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        on_dask = regression_flow.with_options(task_runner=shard_task_runner(cluster.scheduler_address))
        distributed = result_of(on_dask, database_url=url, max_parallel_shards=6, **params)
    worker_pids = {w.rsplit(":", 1)[1] for w in distributed.shard_workers}
    assert len(worker_pids) >= 2, distributed.shard_workers
    assert local.shard_workers != distributed.shard_workers
    assert outcome(distributed) == outcome(local)
    assert (distributed.pass_at_1, distributed.pass_hat_k) == (local.pass_at_1, local.pass_hat_k)
