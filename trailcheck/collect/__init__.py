"""`trailcheck collect`: receive OTLP/HTTP traces and keep them, durably, in a segment store.

store.py     the on-disk store: fsync'd OTLP/JSON line segments, read back by time window
receiver.py  the OTLP/HTTP receiver (JSON and protobuf), redaction, group commit, backpressure
"""

from trailcheck.collect.receiver import ReceiverSettings, build_receiver
from trailcheck.collect.store import SegmentStore, segments_in_window

__all__ = ["ReceiverSettings", "SegmentStore", "build_receiver", "segments_in_window"]
