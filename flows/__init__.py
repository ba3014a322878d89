"""Prefect flows: the regression replay, long sessions and the data contracts check."""

from flows.contracts import contracts
from flows.long_session import long_session
from flows.regression import regression, shard_task_runner

__all__ = ["contracts", "long_session", "regression", "shard_task_runner"]
