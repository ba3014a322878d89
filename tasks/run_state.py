"""What the Prefect run list shows of a run: its tags, its real trigger, and its final state.

A regression run's final state carries its verdict (`trailcheck.analysis.verdict`):

    verdict     fail_run_on                   Prefect state   message           tag
    PASS        any                           Completed       the verdict line  verdict:pass
    REGRESSED   regression-or-failure,        Failed          the verdict line  verdict:regressed
                regression
    FAIL        regression-or-failure,        Failed          the verdict line  verdict:fail
                failure
    otherwise                                 Completed       the verdict line  verdict:...
    (the pipeline itself broke)               Failed "Flow run encountered an exception: ..." or
                                              Crashed, and no verdict tag

Functions here must be called from inside a flow run (or with no run at all: they then do nothing
with Prefect and only compute).
"""

from prefect import get_client
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State

from trailcheck.analysis.verdict import (
    EmptySource,
    FailRunOn,
    NothingSampledRun,
    VerdictFailedRun,
    fails_run,
    live_line,
    run_verdict,
    verdict_line,
)
from trailcheck.models import LiveRunResult, RunResult
from trailcheck.tasks.run_setup import tag_flow_run

VERDICT_TAG = "verdict:"


def real_trigger(declared: str) -> str:
    """What started this flow run, read from the run itself rather than trusted from a parameter.

    `schedule` for a run the scheduler created, the declared trigger (or `event`) for one an
    automation created (a deployment trigger), `manual` for a deployment run somebody started by
    hand; a run outside any deployment (the CLI, CI, a test) keeps what its caller declared.
    """
    if flow_run.id is None:
        return declared
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run.id)
    if run.deployment_id is None:
        return declared
    if run.auto_scheduled:
        return "schedule"
    if run.created_by is not None and run.created_by.type == "AUTOMATION":
        return declared if declared not in ("manual", "schedule") else "event"
    return "manual"


def settle_verdict(run: RunResult, fail_run_on: FailRunOn) -> State:
    """Tag the run `verdict:<verdict>` and return the state it ends in, the verdict line as message.

    A Failed state's data is `VerdictFailedRun(run)`: called in-process, the flow raises it and the
    caller still has the whole result in `.run`.
    """
    verdict = run_verdict(run)
    line = verdict_line(run)
    tag_flow_run([f"{VERDICT_TAG}{verdict.value}"])
    if fails_run(verdict, fail_run_on):
        return Failed(message=line, data=VerdictFailedRun(run, line))
    return Completed(message=line, data=run)


def settle_live(result: LiveRunResult, on_empty: EmptySource) -> State:
    """A live-sampling run's final state: Completed with its line, or Failed when it read nothing and
    `on_empty` says so (a source that should exist by now)."""
    line = live_line(result)
    if result.read == 0 and on_empty is EmptySource.FAIL:
        return Failed(message=line, data=NothingSampledRun(result, line))
    return Completed(message=line, data=result)
