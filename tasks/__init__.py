"""Prefect tasks: the units of work that flows compose (replay a shard, record, compare, publish)."""

from tasks.publish import artifact_key, publish_artifacts
from tasks.record import compare, finish_run, start_run
from tasks.replay import Shard, ShardOutcome, make_shards, replay_shard

__all__ = [
    "Shard",
    "ShardOutcome",
    "artifact_key",
    "compare",
    "finish_run",
    "make_shards",
    "publish_artifacts",
    "replay_shard",
    "start_run",
]
