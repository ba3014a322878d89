"""Many rows per statement, one shape per backend, for the repository's writes.

SQLite: an executemany, which SQLAlchemy batches into multi-row ``VALUES`` (with ``RETURNING``).
PostgreSQL: one statement per call whatever the number of rows: each column is sent as one array
and unnested by the server (``INSERT ... SELECT FROM unnest(...)``). A 1,000-row multi-``VALUES``
statement carries 12,000 parameters that psycopg and the server parse again on every call; it made
PostgreSQL four times slower than SQLite.

JSON columns take JSON text (pydantic's ``model_dump_json``), not Python objects, on both backends:
serializing in pydantic-core instead of ``json.dumps`` saves about a second per 100,000 trajectories.
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Insert,
    Row,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

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
        pg = postgresql.insert(table).from_select(list(rows[0]), _unnested(table, rows))
        stmt: Insert = pg.on_conflict_do_update(index_elements=list(keys), set_=_overwrite(table, pg, keys))
    else:
        lite = _with_json_as_text(sqlite.insert(table))
        stmt = lite.on_conflict_do_update(index_elements=list(keys), set_=_overwrite(table, lite, keys))
        params = list(rows)
    if not returning:
        conn.execute(stmt, params)
        return []
    return conn.execute(stmt.returning(*returning), params).all()


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


def _copy_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY the rows in, inside the connection's transaction: PostgreSQL's fastest way in."""
    names = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(n) for n in names)}) FROM STDIN"
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


def _unnested(table: Table, rows: Sequence[dict[str, Any]]) -> Any:
    """``SELECT * FROM unnest(CAST(:a AS type[]), ...)``: the rows as one array per column."""
    names = list(rows[0])
    arrays = [_array_param(name, [row[name] for row in rows], table.c[name].type) for name in names]
    unnested = func.unnest(*arrays).table_valued(*names).render_derived()
    return select(*(unnested.c[name] for name in names))


def _array_param(name: str, values: list[Any], item_type: TypeEngine[Any]) -> Any:
    if isinstance(item_type, JSON):
        text_array = bindparam(name, values, type_=postgresql.ARRAY(Text()))
        return cast(text_array, postgresql.ARRAY(postgresql.JSON()))
    return cast(bindparam(name, values, type_=postgresql.ARRAY(item_type)), postgresql.ARRAY(item_type))
