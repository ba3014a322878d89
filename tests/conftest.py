"""Shared fixtures. One Prefect test harness per session (it costs ~10-15 s to start)."""

import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
