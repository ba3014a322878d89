"""Prefect flows: the regression replay and live sampling (contract checks join them later)."""

from flows.live_sampling import live_sampling
from flows.regression import regression, shard_task_runner

__all__ = ["live_sampling", "regression", "shard_task_runner"]
