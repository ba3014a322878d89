"""Traces from a SQL table (any SQLAlchemy URL: SQLite, PostgreSQL, ...).

The table holds one trace per row as JSON (a JSON column or text), ordered by a key column::

    CREATE TABLE agent_traces (id BIGINT PRIMARY KEY, trace JSON NOT NULL);

Rows are read in key order in batches (keyset pagination), so memory stays bounded and a
table being appended to is read consistently up to where it was when each batch was read.

With `since`/`until` and a time column (`time_column`, or the first of ``timestamp``, ``ts``,
``created_at``, ``started_at`` the table has), the window is in the query's WHERE, so a
15-minute run reads 15 minutes of rows, not the table (index the column for a large table).
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, create_engine, select
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError

from trailcheck.db.engine import database_url
from trailcheck.db.errors import mask_url
from trailcheck.loading.sources.base import BadRecords, parse_trace_obj
from trailcheck.loading.sources.errors import TraceRecordError, TraceSourceError, TraceSourceMissing
from trailcheck.models import Trace

TIME_COLUMNS = ("timestamp", "ts", "created_at", "started_at")


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
        since: datetime | None = None,
        until: datetime | None = None,
        time_column: str | None = None,
    ) -> None:
        self.url, self.table, self.batch_size = database_url(url), table, batch_size
        self.trace_column, self.key_column = trace_column, key_column
        self.since, self.until, self.time_column = since, until, time_column
        self.bad = BadRecords(max_bad)
        self.pushed_down: str | None = None  # the time column the window was applied to, if any

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

    def _window(self, table: Table) -> list[Any]:
        """The WHERE clauses of the time window, on the time column (none without one)."""
        if self.since is None and self.until is None:
            return []
        name = self.time_column or next((c for c in TIME_COLUMNS if c in table.c), None)
        if name is None or name not in table.c:
            return []
        self.pushed_down = name
        column: Column[Any] = table.c[name]
        clauses = []
        if self.since is not None:
            clauses.append(column >= self._as_column_time(self.since, column))
        if self.until is not None:
            clauses.append(column < self._as_column_time(self.until, column))
        return clauses

    @staticmethod
    def _as_column_time(moment: datetime, column: Column[Any]) -> datetime:
        # A naive timestamp column holds UTC by convention; an aware comparison would fail there.
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        timezone = getattr(column.type, "timezone", False)
        return aware if timezone else aware.astimezone(UTC).replace(tzinfo=None)

    def __iter__(self) -> Iterator[Trace]:
        engine = create_engine(self.url)
        try:
            try:
                table = self._table(engine)
            except SQLAlchemyError as exc:
                raise TraceSourceError(f"{self.describe()}: cannot read: {type(exc).__name__}") from None
            key: Column[Any] = table.c[self.key_column]
            column: Column[Any] = table.c[self.trace_column]
            window = self._window(table)
            last: Any = None
            while True:
                query = select(key, column).where(*window).order_by(key).limit(self.batch_size)
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
