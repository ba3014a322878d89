"""Prefect tasks: the units of work that flows compose (replay a shard, record, compare, publish, notify)."""

from tasks.notify import notify_slack
from tasks.publish import ProgressArtifact, artifact_key, publish_artifacts, publish_message_link
from tasks.record import compare, finish_run, start_run
from tasks.replay import Shard, ShardOutcome, make_shards, replay_shard

__all__ = [
    "ProgressArtifact",
    "Shard",
    "ShardOutcome",
    "artifact_key",
    "compare",
    "finish_run",
    "make_shards",
    "notify_slack",
    "publish_artifacts",
    "publish_message_link",
    "replay_shard",
    "start_run",
]
