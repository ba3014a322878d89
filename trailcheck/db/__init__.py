"""The results database: every run and every trial lands here (SQLite by default, PostgreSQL for teams).

    engine = get_engine()                      # $TRAILCHECK_DATABASE_URL or ./.trailcheck/results.db
    start_run(engine, run)
    record_case_results(engine, run.run_id, shard_results)   # as shards complete; idempotent
    finish_run(engine, run)                    # summary, counts, status
    baseline = latest_run(engine, run.suite, agent_version="v1", exclude_run_id=run.run_id)

`tables` holds the SQLModel tables, `repository` the functions that read and write them in terms of
the domain models in `trailcheck.models`, `engine` the URL resolution, `errors` the error tree.
"""

from trailcheck.db.engine import (
    DATABASE_URL_ENV,
    HOME_ENV,
    database_url,
    dispose_engines,
    get_engine,
)
from trailcheck.db.errors import ResultsDatabaseError, UnknownRunError, mask_url
from trailcheck.db.repository import (
    RunStatus,
    baseline_labels,
    completed_case_keys,
    finish_run,
    get_run,
    latest_accepted_run,
    latest_run,
    list_runs,
    load_case_results,
    record_case_results,
    run_status,
    start_run,
)

__all__ = [
    "DATABASE_URL_ENV",
    "HOME_ENV",
    "ResultsDatabaseError",
    "RunStatus",
    "UnknownRunError",
    "baseline_labels",
    "completed_case_keys",
    "database_url",
    "dispose_engines",
    "finish_run",
    "get_engine",
    "get_run",
    "latest_accepted_run",
    "latest_run",
    "list_runs",
    "load_case_results",
    "mask_url",
    "record_case_results",
    "run_status",
    "start_run",
]
