"""relaxed_gc: thresholds raised while any user is inside, restored when the last one leaves."""

import gc
import threading
from collections.abc import Iterator

import pytest

from trailcheck.gc_tuning import RELAXED_THRESHOLDS, relaxed_gc


@pytest.fixture(autouse=True)
def default_thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*saved)


def test_raised_inside_and_restored_after() -> None:
    with relaxed_gc():
        assert gc.get_threshold() == RELAXED_THRESHOLDS
        assert gc.isenabled()  # cycles are still collected
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_even_after_an_error() -> None:
    with pytest.raises(RuntimeError), relaxed_gc():
        raise RuntimeError("shard failed")
    assert gc.get_threshold() == (700, 10, 10)


def test_overlapping_users_in_threads_restore_only_at_the_last_exit() -> None:
    inside, release = threading.Barrier(3), threading.Event()

    def shard() -> None:
        with relaxed_gc():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=shard) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    with relaxed_gc():
        pass  # a third user leaving first must not restore the defaults under the others
    assert gc.get_threshold() == RELAXED_THRESHOLDS
    release.set()
    for t in threads:
        t.join()
    assert gc.get_threshold() == (700, 10, 10)


def test_higher_thresholds_set_by_the_user_are_kept() -> None:
    gc.set_threshold(100_000, 10, 10)
    with relaxed_gc():
        assert gc.get_threshold() == (100_000, 50, 100)
    assert gc.get_threshold() == (100_000, 10, 10)
