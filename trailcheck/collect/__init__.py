"""`trailcheck collect`: receive OTLP/HTTP traces and keep them, durably, in a segment store.

(the store itself, fsync'd OTLP/JSON segments, is trailcheck/loading/sources/segment_store.py)
receiver.py  the OTLP/HTTP receiver (JSON and protobuf), redaction, group commit, backpressure
"""

from trailcheck.collect.receiver import ReceiverSettings, build_receiver
from trailcheck.loading.sources.segment_store import SegmentStore, segments_in_window

__all__ = ["ReceiverSettings", "SegmentStore", "build_receiver", "segments_in_window"]
