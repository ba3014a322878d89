"""Fewer garbage-collector passes while a replay or a suite load allocates many small objects.

With Prefect, pydantic and SQLAlchemy loaded a process holds hundreds of thousands of objects
that the cyclic collector re-scans on every full pass, and CPython's default thresholds
(700, 10, 10) start one every ~70,000 allocations. Profiled on the benchmark (bench/): that was
about 40% of a shard's CPU per case and 75% of a 10,000-case suite load. Raising the thresholds
while the work runs keeps the collector (cycles are still collected, just in fewer, larger
batches) and costs a few MB of young objects living a little longer.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

RELAXED_THRESHOLDS = (10_000, 50, 100)

_lock = threading.Lock()
_users = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Raise the collector's thresholds until the last concurrent user (shards run in threads) exits."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*(max(a, b) for a, b in zip(RELAXED_THRESHOLDS, _saved, strict=True)))
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
