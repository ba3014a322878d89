"""A regression run's verdict as one word and one line, and whether it fails the flow run.

The verdict of a run is what a person filtering the Prefect run list wants to know:

    PASS       nothing regressed against the baseline and no case blocks the gate
    REGRESSED  at least one case got worse against the baseline (`Comparison.regressions`)
    FAIL       no regression, but cases block the gate, or the comparison could not be made

`fail_run_on` says which verdicts end the flow run in a Failed state (so it is red in the run list
and Prefect automations on failed runs fire). Errors of the pipeline itself never reach here: they
raise, and Prefect records them as Failed with "Flow run encountered an exception" or as Crashed.
"""

from enum import StrEnum

from trailcheck.models import LiveRunResult, RunResult


class RunVerdict(StrEnum):
    """The verdict of a regression run; also its Prefect tag `verdict:<value>`."""

    PASS = "pass"
    FAIL = "fail"
    REGRESSED = "regressed"


class FailRunOn(StrEnum):
    """Which verdicts end the flow run Failed: both (the default), only one of them, or never."""

    REGRESSION_OR_FAILURE = "regression-or-failure"
    REGRESSION = "regression"
    FAILURE = "failure"
    NEVER = "never"


def run_verdict(run: RunResult) -> RunVerdict:
    """REGRESSED when a case got worse against the baseline, else FAIL when the gate does not pass."""
    if run.comparison is not None and run.comparison.regressions:
        return RunVerdict.REGRESSED
    return RunVerdict.PASS if run.ok else RunVerdict.FAIL


def fails_run(verdict: RunVerdict, fail_run_on: FailRunOn) -> bool:
    """Whether this verdict ends the flow run in a Failed state under `fail_run_on`."""
    if verdict is RunVerdict.PASS or fail_run_on is FailRunOn.NEVER:
        return False
    if fail_run_on is FailRunOn.REGRESSION_OR_FAILURE:
        return True
    return (verdict is RunVerdict.REGRESSED) == (fail_run_on is FailRunOn.REGRESSION)


def _flat(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def verdict_line(run: RunResult) -> str:
    """The one-line verdict: the Prefect state message, the summary card's description, Slack's text.

    e.g. ``REGRESSED support-desk on v2: 5 regression(s) vs reference-v1 (refund-flow, ...),
    pass@1 40.0% (was 100.0%)``.
    """
    verdict = run_verdict(run)
    head = f"{verdict.value.upper()} {run.suite} on {run.agent_version}"
    comparison = run.comparison
    was = ""
    if comparison is not None and comparison.baseline_pass_at_1 is not None:
        was = f" (was {comparison.baseline_pass_at_1:.1%})"
    rate = f"pass@1 {run.pass_at_1:.1%}{was}"
    if verdict is RunVerdict.REGRESSED and comparison is not None:
        ids = [r.case_id for r in comparison.regressions]
        shown = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        detail = f"{len(ids)} regression(s) vs {comparison.baseline_version} ({shown}), {rate}"
    elif comparison is not None and comparison.error:
        detail = f"no comparison with {comparison.baseline_version}: {comparison.error}; {rate}"
    else:
        blocking = run.blocking_cases()
        detail = f"{len(blocking)} of {len(run.cases)} case(s) not passing, {rate}" if blocking else rate
    return _flat(f"{head}: {detail}", 500)


class VerdictFailedRun(Exception):
    """Raised by a flow whose verdict failed it (see `FailRunOn`); `.run` holds the whole result.

    A Prefect flow that ends Failed raises when called in-process, so callers that want the result
    whatever the verdict (the CLI, the fault matrix) catch this and read `.run`.
    """

    def __init__(self, run: RunResult, line: str | None = None) -> None:
        self.run = run
        self.line = line or verdict_line(run)
        super().__init__(self.line)

    def __reduce__(self) -> tuple[type["VerdictFailedRun"], tuple[RunResult, str]]:
        # Prefect persists the Failed state's data; the default reduce would lose `run`.
        return (type(self), (self.run, self.line))


class EmptySource(StrEnum):
    """How a live-sampling run with nothing to read ends: Completed (the default) or Failed."""

    COMPLETE = "complete"
    FAIL = "fail"


class LiveStatus(StrEnum):
    """The headline of a live-sampling run, in order of precedence."""

    NOTHING = "nothing to sample"
    ATTENTION = "ATTENTION"
    FAILING = "failing traces"
    HEALTHY = "healthy"


def live_status(result: LiveRunResult) -> LiveStatus:
    """ATTENTION on an anomaly or a rejected output; failing traces when any sampled trace failed."""
    if result.read == 0:
        return LiveStatus.NOTHING
    if not result.ok:
        return LiveStatus.ATTENTION
    return LiveStatus.FAILING if result.failed else LiveStatus.HEALTHY


def live_line(result: LiveRunResult) -> str:
    """One line on a live-sampling run, agreeing with its failure rate (the state message, Slack's text)."""
    status = live_status(result)
    if status is LiveStatus.NOTHING:
        return _flat(f"Live sampling: {result.nothing_read or 'nothing to sample'}", 500)
    rate = f"{result.failure_rate:.1%}" if result.failure_rate is not None else "n/a"
    failing = f"{result.failed} of {result.sampled} sampled trace(s) failing ({rate})"
    parts = [f"{len(result.anomalies)} anomal{'y' if len(result.anomalies) == 1 else 'ies'}"]
    if result.rejected:
        parts.append(f"{result.rejected} rejected in review")
    head = "healthy" if status is LiveStatus.HEALTHY else status.value
    return _flat(f"Live sampling {head}: {result.source}: {failing}, {', '.join(parts)}", 500)


class NothingSampledRun(Exception):
    """Raised by a live-sampling run with nothing to read under `EmptySource.FAIL`; `.result` holds it."""

    def __init__(self, result: LiveRunResult, line: str | None = None) -> None:
        self.result = result
        self.line = line or live_line(result)
        super().__init__(self.line)

    def __reduce__(self) -> tuple[type["NothingSampledRun"], tuple[LiveRunResult, str]]:
        return (type(self), (self.result, self.line))
