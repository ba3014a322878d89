"""Prefect tasks: the units of work that flows compose (replay a shard, record, compare, publish, sample)."""

from tasks.live import LiveNotifier, SampleOutcome, notifiers_for, sample_source
from tasks.publish import artifact_key, publish_artifacts
from tasks.record import compare, finish_run, start_run
from tasks.replay import Shard, ShardOutcome, make_shards, replay_shard
from tasks.review import ReviewInput, review_traces

__all__ = [
    "LiveNotifier",
    "ReviewInput",
    "SampleOutcome",
    "Shard",
    "ShardOutcome",
    "artifact_key",
    "compare",
    "finish_run",
    "make_shards",
    "notifiers_for",
    "publish_artifacts",
    "replay_shard",
    "review_traces",
    "sample_source",
    "start_run",
]
