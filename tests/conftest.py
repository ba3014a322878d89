"""Shared fixtures. One Prefect test harness per session (it costs ~10-15 s to start)."""

import os
from collections.abc import Iterator

import pytest

# Before Prefect is imported anywhere: no telemetry lookups on this offline machine, and no
# shutdown tracebacks from the server's task-run recorder.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# Flows write no HTML report (plotly.js inline, ~5 MB each) unless a test turns them on.
os.environ.setdefault("TRAILCHECK_HTML_REPORTS", "off")
# Commands run as subprocesses run in their own process, as the tests of crashes and signals assume,
# even where a developer's warm runner serves the same home; tests/test_warm_runner.py turns it on.
os.environ["TRAILCHECK_WARM_RUNNER"] = "off"

POSTGRES_URL = os.environ.get("TRAILCHECK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real Prefect API (temporary database, ephemeral server) for every flow test."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with (
        prefect_test_harness(server_startup_timeout=60),
        temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
    ):
        yield


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections live in a fresh schema, dropped when the module is done.

    If PostgreSQL is down this fails, it does not skip: CI starts it, and a silent skip would
    hide the backend teams use.
    """
    from sqlalchemy.exc import OperationalError

    from trailcheck.db.scratch import scratch_schema

    schema = scratch_schema(POSTGRES_URL)
    try:
        url = schema.__enter__()
    except OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc.orig}. Start it (.ci/run does), point "
            "TRAILCHECK_TEST_POSTGRES_URL at one, or deselect these tests with -m 'not postgres'.",
            pytrace=False,
        )
    try:
        yield url
    finally:
        schema.__exit__(None, None, None)
