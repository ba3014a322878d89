"""Which results database to use, and one engine per database for the whole process.

SQLite is the default so a developer needs nothing installed; a team points
``TRAILCHECK_DATABASE_URL`` at PostgreSQL. The SQLite file is opened in WAL mode with a busy
timeout, so the CLI can read it while a flow writes to it.
"""

import contextlib
import os
import re
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import SQLModel

from trailcheck.db._core import ALL_TABLES
from trailcheck.db.errors import ResultsDatabaseError, database_error, mask_url
from trailcheck.db.guard import DeadlineExceeded, deadline, timeout_s, track_connections
from trailcheck.home import DEFAULT_HOME as DEFAULT_HOME  # re-exported: the spool and callers use them
from trailcheck.home import HOME_ENV as HOME_ENV
from trailcheck.home import trailcheck_home

DATABASE_URL_ENV = "TRAILCHECK_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_CONNECT_TIMEOUT_S = 5
# libpq options for every PostgreSQL connection, unless the URL sets them: a dead peer is noticed by
# TCP (keepalives; tcp_user_timeout for data the peer never acknowledges), and the server ends a
# statement or a forgotten transaction itself. A frozen server answers none of these: guard.deadline.
POSTGRES_OPTIONS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}

_BARE_POSTGRES = re.compile(r"^postgres(?:ql)?://", re.IGNORECASE)
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def database_url(explicit: str | None = None) -> str:
    """The results database URL: `explicit`, else $TRAILCHECK_DATABASE_URL, else a SQLite file.

    The SQLite default is ``<$TRAILCHECK_HOME or ./.trailcheck>/results.db`` (absolute, so the URL
    names the same file wherever the process runs later); its directory is created. A PostgreSQL
    URL without a driver is given psycopg 3, the one installed (SQLAlchemy would pick psycopg2).
    """
    url = explicit or os.environ.get(DATABASE_URL_ENV) or None
    if url is None:
        return f"sqlite:///{trailcheck_home() / 'results.db'}"
    return _BARE_POSTGRES.sub("postgresql+psycopg://", url)


def get_engine(url: str | None = None) -> Engine:
    """The engine for this database (see `database_url`), created with its schema on first use.

    One engine per URL per process, so every task in a worker shares one connection pool. A
    database that cannot be reached raises `ResultsDatabaseError` here, and nothing is cached, so
    the next call tries again.
    """
    resolved = database_url(url)
    with _engines_lock:
        engine = _engines.get(resolved)
        if engine is None:
            engine = _create_engine(resolved)
            _engines[resolved] = engine
        return engine


def ping(url: str | None = None) -> None:
    """Ask the database for ``SELECT 1`` within a short deadline; raises if it does not answer."""
    engine = get_engine(url)
    with deadline(engine, min(timeout_s(), 5.0)), engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def dispose_engines(url: str | None = None) -> None:
    """Close the pooled connections of the engine for `url` (or of every engine) and forget it.

    For tests and for a process that is about to fork or exit; `get_engine` creates a new one.
    """
    with _engines_lock:
        urls = list(_engines) if url is None else [database_url(url)]
        for key in urls:
            engine = _engines.pop(key, None)
            if engine is not None:
                engine.dispose()


def _create_engine(url: str) -> Engine:
    try:
        backend = make_url(url).get_backend_name()
        if backend == "sqlite":
            engine = _sqlite_engine(url)
        elif backend == "postgresql":
            engine = _postgres_engine(url)
        else:
            raise ResultsDatabaseError(
                f"results database {mask_url(url)}: unsupported backend {backend!r}; use sqlite or postgresql"
            )
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ResultsDatabaseError(f"results database {mask_url(url)}: invalid URL: {exc}") from exc
    try:
        with deadline(engine):
            SQLModel.metadata.create_all(engine, tables=ALL_TABLES, checkfirst=True)
    except (DBAPIError, PoolTimeoutError, DeadlineExceeded) as exc:
        engine.dispose()
        raise database_error(url, "connecting", exc) from exc
    return engine


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        # A fresh clone has no .trailcheck/: SQLite would say "unable to open database file" and spool.
        # A folder that cannot be made is left to SQLite to report, as a ResultsDatabaseError.
        with contextlib.suppress(OSError):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # hide_parameters: an error must never print trace content (or a secret) bound to a statement.
    engine = create_engine(url, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # WAL lets readers and one writer work at once; the busy timeout makes a second writer wait
    # instead of failing with "database is locked"; NORMAL sync is durable enough under WAL.
    # SQLite leaves foreign keys off unless asked, and PostgreSQL enforces them: keep both alike.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _postgres_engine(url: str) -> Engine:
    query = make_url(url).query
    connect_args: dict[str, Any] = {k: v for k, v in POSTGRES_OPTIONS.items() if k not in query}
    if "connect_timeout" not in query:
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_S
    if "options" not in query:
        limit_ms = int(timeout_s() * 1000)
        connect_args["options"] = (
            f"-c statement_timeout={limit_ms} -c idle_in_transaction_session_timeout={2 * limit_ms}"
        )
    # pre_ping: a long-lived worker survives a database restart between two flow runs. pool_timeout:
    # a caller waits for a pooled connection no longer than for the database itself.
    engine = create_engine(
        url,
        connect_args=connect_args,
        pool_pre_ping=True,
        pool_timeout=timeout_s(),
        hide_parameters=True,
    )
    track_connections(engine)
    return engine
