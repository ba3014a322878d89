"""Traces from a SQL table (any SQLAlchemy URL: SQLite, PostgreSQL, ...).

The table holds one trace per row as JSON (a JSON column or text), ordered by a key column::

    CREATE TABLE agent_traces (id BIGINT PRIMARY KEY, trace JSON NOT NULL);

Rows are read in key order in batches (keyset pagination), so memory stays bounded and a
table being appended to is read consistently up to where it was when each batch was read.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Column, MetaData, Table, create_engine, select
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from trailcheck.db.engine import database_url
from trailcheck.db.errors import mask_url
from trailcheck.loading.sources.base import BadRecords, parse_trace_obj
from trailcheck.loading.sources.errors import TraceRecordError, TraceSourceError, TraceSourceMissing
from trailcheck.models import Trace


class SqlSource:
    """Stream the traces in `table` (JSON in `trace_column`), in `key_column` order."""

    def __init__(
        self,
        url: str,
        table: str,
        *,
        trace_column: str = "trace",
        key_column: str = "id",
        batch_size: int = 1000,
        max_bad: int = 100,
    ) -> None:
        self.url, self.table, self.batch_size = database_url(url), table, batch_size
        self.trace_column, self.key_column = trace_column, key_column
        self.bad = BadRecords(max_bad)

    def describe(self) -> str:
        """The masked URL and the table."""
        return f"{mask_url(self.url)} table {self.table}"

    def _table(self, engine: Any) -> Table:
        try:
            table = Table(self.table, MetaData(), autoload_with=engine)
        except NoSuchTableError:
            raise TraceSourceMissing(f"{self.describe()}: no such table") from None
        missing = [c for c in (self.trace_column, self.key_column) if c not in table.c]
        if missing:
            raise TraceSourceError(
                f"{self.describe()}: no column {', '.join(map(repr, missing))}; columns: "
                f"{', '.join(table.c.keys())}\n    fix: set trace_column/key_column"
            )
        return table

    def __iter__(self) -> Iterator[Trace]:
        engine = create_engine(self.url)
        try:
            try:
                table = self._table(engine)
            except SQLAlchemyError as exc:
                raise TraceSourceError(f"{self.describe()}: cannot read: {type(exc).__name__}") from None
            key: Column[Any] = table.c[self.key_column]
            column: Column[Any] = table.c[self.trace_column]
            last: Any = None
            while True:
                query = select(key, column).order_by(key).limit(self.batch_size)
                if last is not None:
                    query = query.where(key > last)
                with engine.connect() as conn:
                    rows = conn.execute(query).all()
                for row_key, value in rows:
                    try:
                        yield parse_trace_obj(value, f"{self.describe()} row {self.key_column}={row_key}")
                    except TraceRecordError as exc:
                        self.bad.skip(exc)
                if len(rows) < self.batch_size:
                    return
                last = rows[-1][0]
        finally:
            engine.dispose()
