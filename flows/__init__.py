"""Prefect flows: the regression replay and the data contracts check (live sampling joins them later)."""

from flows.contracts import contracts
from flows.regression import regression, shard_task_runner

__all__ = ["contracts", "regression", "shard_task_runner"]
