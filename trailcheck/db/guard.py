"""Bounded time for every database call, and a circuit breaker that sends writes to the spool at once.

A database that accepts connections and then stops answering (a frozen server, a half-open
connection) is not noticed by TCP: the server's kernel still acknowledges every packet, so neither
keepalives nor ``tcp_user_timeout`` fire, and a frozen server cannot enforce its own
``statement_timeout``. So each transaction runs under a client-side deadline (`deadline`): when it
passes, the sockets of that engine's connections are shut down, the blocked driver call fails at
once with an `OperationalError`, and the caller spools as it does for any outage.

The breaker (`breaker_for`) remembers, per database, that it is down: while it is open, writers
spool without trying (a black-holed database would otherwise cost a connect timeout per batch), and
one background thread probes the database, closing the breaker when it answers again.
"""

import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)
TIMEOUT_ENV = "TRAILCHECK_DB_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 30.0
PROBE_FIRST_S = 1.0
PROBE_MAX_S = 15.0

_sockets: "weakref.WeakKeyDictionary[Engine, weakref.WeakSet[Any]]" = weakref.WeakKeyDictionary()
_sockets_lock = threading.Lock()


def timeout_s() -> float:
    """The longest a database transaction may take: $TRAILCHECK_DB_TIMEOUT_S, else 30 s."""
    try:
        return max(0.1, float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT_S))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def track_connections(engine: Engine) -> None:
    """Remember every driver connection the engine opens, so a deadline can cut them."""
    connections: weakref.WeakSet[Any] = weakref.WeakSet()
    with _sockets_lock:
        _sockets[engine] = connections

    @event.listens_for(engine, "connect")
    def _opened(dbapi_connection: Any, _record: Any) -> None:
        with _sockets_lock:
            connections.add(dbapi_connection)


class DeadlineExceeded(Exception):
    """The database did not answer within the deadline (see `deadline`)."""


@contextmanager
def deadline(engine: Engine, seconds: float | None = None) -> Iterator[None]:
    """Run the block with at most `seconds` (default `timeout_s`) for the database to answer.

    When the time passes, every connection of `engine` is cut: the database is considered
    unhealthy, and a half-dead connection must not be handed to the next caller. The block's
    driver error is then replaced by `DeadlineExceeded`.
    """
    limit = timeout_s() if seconds is None else seconds
    fired = threading.Event()

    def cut() -> None:
        fired.set()
        cut_connections(engine)

    timer = threading.Timer(limit, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    except Exception as exc:
        if fired.is_set():
            raise DeadlineExceeded(f"no answer within {limit:g} s (server frozen or unreachable)") from exc
        raise
    finally:
        timer.cancel()


def cut_connections(engine: Engine) -> int:
    """Shut down the socket of every open connection of `engine`; how many were cut."""
    with _sockets_lock:
        connections = list(_sockets.get(engine, ()))
    cut = 0
    for connection in connections:
        fileno = _fileno(connection)
        if fileno is None:
            continue
        try:
            # On a duplicate: shutdown acts on the socket both share, close only on our copy.
            with socket.socket(fileno=os.dup(fileno)) as sock:
                sock.shutdown(socket.SHUT_RDWR)
            cut += 1
        except OSError:
            continue
    if cut:
        log.warning("results database %s did not answer in time: %d connection(s) cut", engine.url, cut)
    return cut


def _fileno(connection: Any) -> int | None:
    try:
        pgconn = getattr(connection, "pgconn", None)  # psycopg 3
        if pgconn is not None:
            return int(pgconn.socket)
    except Exception:  # a closed connection has no socket
        return None
    return None  # SQLite: a file, nothing to cut


@dataclass
class Breaker:
    """Whether one database is known to be down, and the thread that probes it until it is back."""

    url: str
    reason: str = ""
    opened_at: float | None = None
    probes: int = 0
    ping: Callable[[], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _prober: threading.Thread | None = field(default=None, repr=False)

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def trip(self, reason: str, ping: Callable[[], None] | None = None) -> None:
        """The database failed: open the breaker (writers spool at once) and probe it with `ping`
        (which raises while the database is down) in a background thread."""
        with self._lock:
            self.ping = ping or self.ping
            self.reason = reason
            if self.opened_at is None:
                self.opened_at = time.monotonic()
                log.warning(
                    "results database down, writes go to the local spool until it answers: %s", reason
                )
            if self._prober is None or not self._prober.is_alive():
                self._prober = threading.Thread(target=self._probe, name="trailcheck-db-probe", daemon=True)
                self._prober.start()

    def close(self) -> None:
        """The database answers again."""
        with self._lock:
            if self.opened_at is not None:
                log.info("results database answers again after %.1f s", time.monotonic() - self.opened_at)
            self.opened_at = None
            self.reason = ""

    def _probe(self) -> None:
        wait = PROBE_FIRST_S
        while self.is_open:
            time.sleep(wait)
            self.probes += 1
            try:
                if self.ping is None:
                    raise RuntimeError("nothing to probe with")
                self.ping()
            except Exception:  # any failure: still down
                wait = min(PROBE_MAX_S, wait * 2)
                continue
            self.close()


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(url: str) -> Breaker:
    """The breaker of this database (one per process)."""
    with _breakers_lock:
        breaker = _breakers.get(url)
        if breaker is None:
            breaker = _breakers[url] = Breaker(url)
        return breaker


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` (or its cause) says the database is unreachable or unresponsive, rather than
    refusing one write (bad data, a constraint): only outages open the breaker."""
    import psycopg
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeoutError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(
            seen, OperationalError | psycopg.OperationalError | PoolTimeoutError | DeadlineExceeded | OSError
        ):
            return True
        seen = seen.__cause__
    return False


def reset_breakers() -> None:
    """Forget every breaker (for tests)."""
    with _breakers_lock:
        for breaker in _breakers.values():
            breaker.close()
        _breakers.clear()
