"""Prefect flows: the regression replay (live sampling and contract checks join it later)."""

from flows.regression import regression, shard_task_runner

__all__ = ["regression", "shard_task_runner"]
