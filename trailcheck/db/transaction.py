"""The one way the results database is written and read: a transaction whose failure names the database.

A driver or pool error becomes a `ResultsDatabaseError` that says which database (URL masked) and
what was being done, with the cause chained, for the caller's retries to act on.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from trailcheck.db.errors import database_error


@contextmanager
def transaction(engine: Engine, action: str) -> Iterator[Connection]:
    """A connection in a transaction, committed on success; `action` ("saving run 'r1'") names the work."""
    try:
        with engine.begin() as conn:
            yield conn
    except (DBAPIError, PoolTimeoutError) as exc:
        raise database_error(engine.url, action, exc) from exc
