"""In-process progress of a run, for the CLI's progress bar.

Shards report each finished trial here under the run id; listeners registered in the same
process (the CLI's progress bar, the flow's progress artifact) see it. Nothing listens when
shards run on a Dask cluster, and reporting then costs a dict lookup.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from trailcheck.models import CaseResult

Listener = Callable[[CaseResult], None]

_listeners: dict[str, list[Listener]] = {}
_lock = threading.Lock()


@contextmanager
def listening(run_id: str, listener: Listener) -> Iterator[None]:
    """Call `listener` with every trial of run `run_id` that finishes while the block runs."""
    with _lock:
        _listeners[run_id] = [*_listeners.get(run_id, []), listener]
    try:
        yield
    finally:
        with _lock:
            rest = [other for other in _listeners.get(run_id, []) if other is not listener]
            if rest:
                _listeners[run_id] = rest
            else:
                _listeners.pop(run_id, None)


def report(run_id: str, result: CaseResult) -> None:
    """Tell the run's listeners, if any, that a trial finished."""
    for listener in _listeners.get(run_id, ()):
        listener(result)
