"""The CLI hides Prefect's end-of-run heartbeat race, and nothing else."""

import logging

import pytest

import trailcheck.cli._support  # noqa: F401  (installs the filter, as every command imports it)


def _log_exception(logger: logging.Logger, exc: Exception) -> None:
    try:
        raise exc
    except RuntimeError:
        logger.exception("Error emitting event: prefect.flow-run.heartbeat")


def test_only_the_shutdown_race_is_hidden(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("prefect.events.utilities")
    logger.propagate = True
    with caplog.at_level(logging.ERROR, logger="prefect.events.utilities"):
        _log_exception(logger, RuntimeError("Cannot put items in a stopped service instance."))
        _log_exception(logger, RuntimeError("connection reset"))
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert messages == ["connection reset"]
