"""A throwaway PostgreSQL schema, so tests and benchmarks never see each other's rows."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text

from trailcheck.db.engine import database_url, dispose_engines


@contextmanager
def scratch_schema(server_url: str, prefix: str = "tc") -> Iterator[str]:
    """Create a fresh schema on `server_url`, yield a URL whose connections use it, then drop it.

    Raises sqlalchemy's OperationalError when the server cannot be reached.
    """
    admin = create_engine(database_url(server_url))
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url = f"{server_url}?options=-csearch_path%3D{schema}"
        try:
            yield url
        finally:
            dispose_engines(url)
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()
