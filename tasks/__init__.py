"""Prefect tasks: the units of work that flows compose (replay, record, compare, publish, notify, sample)."""

from trailcheck.tasks.live import LiveNotifier, SampleOutcome, notifiers_for, sample_source
from trailcheck.tasks.notify import notify_slack
from trailcheck.tasks.publish import ProgressArtifact, artifact_key, publish_artifacts, publish_message_link
from trailcheck.tasks.record import compare, finish_run, start_run
from trailcheck.tasks.replay import Shard, ShardOutcome, make_shards, replay_shard
from trailcheck.tasks.review import ReviewInput, review_traces

__all__ = [
    "LiveNotifier",
    "ProgressArtifact",
    "ReviewInput",
    "SampleOutcome",
    "Shard",
    "ShardOutcome",
    "artifact_key",
    "compare",
    "finish_run",
    "make_shards",
    "notifiers_for",
    "notify_slack",
    "publish_artifacts",
    "publish_message_link",
    "replay_shard",
    "review_traces",
    "sample_source",
    "start_run",
]
