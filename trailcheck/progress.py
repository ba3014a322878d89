"""In-process progress of a run, for the CLI's progress bar.

Shards report each finished trial here under the run id; a listener registered by the
CLI (in the same process) draws it. Nothing listens when the flow runs on a worker or a
Dask cluster, and reporting then costs a dict lookup.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from trailcheck.models import CaseResult

Listener = Callable[[CaseResult], None]

_listeners: dict[str, Listener] = {}
_lock = threading.Lock()


@contextmanager
def listening(run_id: str, listener: Listener) -> Iterator[None]:
    """Call `listener` with every trial of run `run_id` that finishes while the block runs."""
    with _lock:
        _listeners[run_id] = listener
    try:
        yield
    finally:
        with _lock:
            _listeners.pop(run_id, None)


def report(run_id: str, result: CaseResult) -> None:
    """Tell the run's listener, if any, that a trial finished."""
    listener = _listeners.get(run_id)
    if listener is not None:
        listener(result)
