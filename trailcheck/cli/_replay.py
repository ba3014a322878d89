"""What the commands that replay a suite share: validating their inputs, then running the regression flow."""

import contextlib
import uuid
from pathlib import Path

from trailcheck.agents.config import GatewaySettings
from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.cli._support import fail, out
from trailcheck.loading.suite import SuiteError
from trailcheck.models import RunResult, Suite
from trailcheck.render.console import progress_bar
from trailcheck.resources import bundled_suite

BUNDLED_SUITE = bundled_suite()


def load_or_fail(suite: Path) -> Suite:
    try:
        return load_checked_suite(suite)
    except SuiteError as exc:
        raise fail(str(exc)) from None


def check_agent(agent: str) -> None:
    """Refuse an agent option that names nothing runnable, before any flow starts."""
    from trailcheck.agents.config import AgentConfigError, load_agent_config, missing_env
    from trailcheck.agents.reference import VERSIONS

    if agent.startswith("reference:") and agent.split(":", 1)[1] not in VERSIONS:
        raise fail(
            f"unknown reference agent {agent!r}; known: {', '.join('reference:' + v for v in VERSIONS)}"
        )
    if agent.endswith((".yaml", ".yml")):
        try:
            config = load_agent_config(agent)
        except AgentConfigError as exc:
            raise fail(str(exc)) from None
        unset = missing_env(config)
        if unset:
            raise fail(
                f"{agent}: environment variable(s) not set: {', '.join(unset)} (set them, or fix the file)"
            )
    elif not agent.startswith(("reference:", "http://", "https://", "python:")):
        raise fail(
            f"cannot tell what agent {agent!r} is: use reference:v1, an http(s):// URL, "
            "python:module:function or an agent YAML file"
        )


def gateway_or_fail(value: str | None, port: int, agent: str, suite: Suite) -> GatewaySettings | None:
    from trailcheck.agents.targets import AgentSpecError, gateway_settings, refuse_without_gateway

    try:
        settings = gateway_settings(value, port)
        if any(case.faults or case.fixtures for case in suite.cases):
            refuse_without_gateway(agent, gateway=settings)
        return settings
    except AgentSpecError as exc:
        raise fail(str(exc)) from None


def check_resume(run_id: str, suite: Suite, database_url: str | None) -> None:
    """Refuse `--resume` of a run that is unknown, completed or of another suite, before any flow starts."""
    from trailcheck import db
    from trailcheck.db.spool import flush_spool
    from trailcheck.tasks.run_setup import ResumeError, resumable_run

    url = db.database_url(database_url)
    # A run spooled while the database was down is resumable once written; if the database is
    # still down, the check below says so.
    with contextlib.suppress(db.ResultsDatabaseError):
        flush_spool(url, run_id)
    try:
        resumable_run(url, run_id, suite.name)
    except (ResumeError, db.ResultsDatabaseError) as exc:
        raise fail(f"cannot resume: {exc}") from None


def redaction_or_fail(redact: bool, patterns: list[str]) -> object:
    """The run's RedactionConfig: the environment's, turned off by --no-redact, plus --redact-pattern."""
    from pydantic import ValidationError

    from trailcheck.redaction import RedactionConfig

    try:
        return RedactionConfig.from_env(patterns, enabled=None if redact else False)
    except ValidationError as exc:
        raise fail(f"redaction: {exc.errors()[0]['msg']}") from None


def replay(
    suite_path: Path,
    suite: Suite,
    agent: str,
    dask_address: str | None = None,
    resume: str | None = None,
    **params: object,
) -> RunResult:
    from trailcheck.analysis.verdict import VerdictFailedRun
    from trailcheck.flows.regression import regression
    from trailcheck.render.progress import listening
    from trailcheck.tasks.run_setup import shard_task_runner

    flow = (
        regression.with_options(task_runner=shard_task_runner(dask_address)) if dask_address else regression
    )
    if resume:
        params["resume"] = True
    run_id = resume or uuid.uuid4().hex[:12]
    total = len(suite.cases) * int(str(params["trials"]))
    title = f"{suite.name} on {params.get('agent_version') or agent}"
    with progress_bar(out, title, total) as advance, listening(run_id, advance):
        # `params` are the flow's own keyword parameters, passed through from the command.
        try:
            return flow(suite=str(suite_path), agent=agent, run_id=run_id, **params)  # type: ignore[call-overload]
        except VerdictFailedRun as failed:  # the flow run ended Failed on its verdict; the exit code says so
            return failed.run
