"""Prefect tasks: the units of work that flows compose (replay, record, compare, publish, notify, sample).

Each is imported on first use (PEP 562), so a flow pays only for the tasks it runs.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailcheck.tasks.live import LiveNotifier, SampleOutcome, notifiers_for, sample_source
    from trailcheck.tasks.notify import notify_slack
    from trailcheck.tasks.publish import (
        ProgressArtifact,
        artifact_key,
        publish_artifacts,
        publish_message_link,
    )
    from trailcheck.tasks.record import compare, finish_run, start_run
    from trailcheck.tasks.replay import Shard, ShardOutcome, make_shards, replay_shard
    from trailcheck.tasks.review import ReviewInput, review_traces

_HOMES = {
    "LiveNotifier": "live",
    "SampleOutcome": "live",
    "notifiers_for": "live",
    "sample_source": "live",
    "notify_slack": "notify",
    "ProgressArtifact": "publish",
    "artifact_key": "publish",
    "publish_artifacts": "publish",
    "publish_message_link": "publish",
    "compare": "record",
    "finish_run": "record",
    "start_run": "record",
    "Shard": "replay",
    "ShardOutcome": "replay",
    "make_shards": "replay",
    "replay_shard": "replay",
    "ReviewInput": "review",
    "review_traces": "review",
}
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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
