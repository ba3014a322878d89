"""Prefect flows: the regression replay (live sampling and contract checks join it later)."""

from flows.long_session import long_session
from flows.regression import regression, shard_task_runner

__all__ = ["long_session", "regression", "shard_task_runner"]
