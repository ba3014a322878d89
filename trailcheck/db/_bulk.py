"""Many rows per statement, one shape per backend, for the repository's writes.

SQLite: an executemany, which SQLAlchemy batches into multi-row ``VALUES`` (with ``RETURNING``).
PostgreSQL: rows go in by ``COPY``, the server's fastest way in. Plain inserts, and new rows whose
ids are needed (`insert_new`: ids drawn from the sequence first), COPY straight into the table; an
upsert COPYs into a per-session staging table (temporary, emptied at each commit) and then runs
one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. A 1,000-row multi-``VALUES``
statement carries 12,000 parameters that psycopg and the server parse again on every call (four
times slower than SQLite); sending each column as an array to ``unnest`` was better, but psycopg
dumps arrays in Python: 40% of the client's CPU for 100,000 case results.

JSON columns take JSON text (pydantic's ``model_dump_json``), not Python objects, on both backends:
serializing in pydantic-core instead of ``json.dumps`` saves about a second per 100,000 trajectories.
"""

import zlib
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Insert,
    Row,
    Table,
    Text,
    any_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import TableClause, column
from sqlalchemy.sql.expression import table as sql_table

# Bound parameters per SQLite IN (...) list; SQLite allows 32,766 per statement.
_SQLITE_IN_CHUNK = 10_000
_InsertT = TypeVar("_InsertT", bound=Insert)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    returning: Sequence[Column[Any]] = (),
) -> Sequence[Row[Any]]:
    """Insert `rows`, or on a conflict on `keys` overwrite every other column; the `returning` columns.

    The keys must be unique within `rows` (PostgreSQL refuses to update one row twice in a statement).
    """
    if not rows:
        return []
    params: list[dict[str, Any]] | None = None
    if _is_postgres(conn):
        staged = _stage(conn, table, rows)
        pg = postgresql.insert(table).from_select(list(rows[0]), select(*staged.c))
        stmt: Insert = pg.on_conflict_do_update(index_elements=list(keys), set_=_overwrite(table, pg, keys))
    else:
        lite = _with_json_as_text(sqlite.insert(table))
        stmt = lite.on_conflict_do_update(index_elements=list(keys), set_=_overwrite(table, lite, keys))
        params = list(rows)
    if not returning:
        conn.execute(stmt, params)
        return []
    return conn.execute(stmt.returning(*returning), params).all()


def insert_new(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], id_column: Column[Any]
) -> list[int] | None:
    """PostgreSQL: write `rows` as new rows with one COPY and return their ids, in order.

    The ids are drawn from the column's sequence first, since COPY returns nothing. If any row
    conflicts (a rewrite) or is refused, nothing is written and the answer is None: the caller
    upserts instead. Always None on SQLite, where `upsert` is as fast.
    """
    if not _is_postgres(conn) or not rows:
        return None
    sequence = func.pg_get_serial_sequence(table.name, id_column.name)
    draw = select(func.nextval(sequence)).select_from(func.generate_series(1, len(rows)))
    ids = list(conn.execute(draw).scalars())
    import psycopg  # only PostgreSQL runs get here; SQLite runs need not import it

    try:
        with conn.begin_nested():
            _copy_rows(conn, table, [{id_column.name: i, **row} for i, row in zip(ids, rows, strict=True)])
    except psycopg.IntegrityError:
        return None
    return ids


def inserted_flag(conn: Connection) -> Any:
    """A ``RETURNING`` column of `upsert` that is true when the row was new (not overwritten).

    PostgreSQL tells (a row version written by this statement's insert has no ``xmax``);
    SQLite does not, so there it is always false: callers must then assume the row existed.
    """
    if _is_postgres(conn):
        return literal_column("(xmax = 0)", Boolean()).label("inserted")
    return literal(False, Boolean()).label("inserted")


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`, all with the same keys."""
    if not rows:
        return
    if _is_postgres(conn):
        _copy_rows(conn, table, rows)
    else:
        conn.execute(_with_json_as_text(insert(table)), list(rows))


def delete_in(conn: Connection, column: Column[Any], values: Sequence[Any]) -> None:
    """Delete the rows of `column`'s table whose `column` is one of `values`."""
    if not values:
        return
    table = column.table
    if _is_postgres(conn):
        param = bindparam("values", list(values), type_=postgresql.ARRAY(column.type))
        conn.execute(delete(table).where(column == any_(param)))
        return
    for start in range(0, len(values), _SQLITE_IN_CHUNK):
        conn.execute(delete(table).where(column.in_(values[start : start + _SQLITE_IN_CHUNK])))


def _is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def _stage(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> TableClause:
    """COPY `rows` into this session's staging table for `table` and these columns; that table.

    The staging table has the columns' types and nothing else (no keys, defaults or sequences),
    lives as long as the connection and is emptied at every commit, so a rolled-back or
    committed batch leaves nothing in it for the next one.
    """
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    name = f"staging_{table.name}_{zlib.crc32(','.join(names).encode()):08x}"
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(quote(n) for n in names)} FROM {quote(table.name)} WITH NO DATA"
    )
    _copy_rows(conn, name, rows)
    return sql_table(name, *(column(n) for n in names))


def _copy_rows(conn: Connection, table: Table | str, rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows in, inside the connection's transaction: PostgreSQL's fastest way in."""
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    name = table if isinstance(table, str) else table.name
    sql = f"COPY {quote(name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
    driver_connection = conn.connection.driver_connection
    assert driver_connection is not None, "an open connection has a driver connection"
    with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])


def _overwrite(table: Table, stmt: postgresql.Insert | sqlite.Insert, keys: Sequence[str]) -> dict[str, Any]:
    return {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys and not c.primary_key}


def _with_json_as_text(stmt: _InsertT) -> _InsertT:
    """Bind JSON columns as text, so JSON text is stored as it is instead of encoded again."""
    json_columns = [c.name for c in stmt.table.columns if isinstance(c.type, JSON)]
    if not json_columns:
        return stmt
    return stmt.values({name: bindparam(name, type_=Text()) for name in json_columns})
