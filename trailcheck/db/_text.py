"""Text PostgreSQL cannot store (NUL), escaped on the way in and restored on the way out.

PostgreSQL text refuses the NUL character (psycopg: "PostgreSQL text fields cannot contain NUL (0x00)
bytes"), and an agent, a tool error or a suite can carry one. On PostgreSQL every plain text column
stores NUL as ``ESCAPE + "0"`` and the escape character itself as ``ESCAPE + ESCAPE``, so any string
round-trips exactly; SQLite stores NUL as it is and is left alone. JSON columns need nothing: JSON
text spells NUL ``\\u0000``, which PostgreSQL's ``json`` type keeps as written.

Bound parameters and results go through `StorableText` (set on every text column of the tables by
`storable_columns`); ``COPY`` bypasses SQLAlchemy's types, so `_bulk` calls `escape` itself.
"""

import re
from typing import Any

from sqlalchemy import JSON, Dialect, Table
from sqlalchemy.types import String, TypeDecorator, TypeEngine

# A private-use character: never meaningful in trace content, and escaped itself when it occurs.
ESCAPE = "\ue000"
_ENCODED = re.compile(f"{ESCAPE}(.)", re.DOTALL)


def escape(value: str) -> str:
    """`value` with NUL and the escape character escaped (unchanged, and fast, when it has neither)."""
    if "\x00" not in value and ESCAPE not in value:
        return value
    return value.replace(ESCAPE, ESCAPE + ESCAPE).replace("\x00", ESCAPE + "0")


def unescape(value: str) -> str:
    """The string `escape` was given."""
    if ESCAPE not in value:
        return value
    return _ENCODED.sub(lambda m: "\x00" if m.group(1) == "0" else m.group(1), value)


class StorableText(TypeDecorator[str]):
    """A text column that stores any Python string on PostgreSQL too (see the module docstring)."""

    impl = String
    cache_ok = True

    def __init__(self, inner: TypeEngine[Any]) -> None:
        super().__init__()
        self.impl = inner  # type: ignore[assignment]  # keep the column's own DDL type

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return escape(value)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, str) and dialect.name == "postgresql":
            return unescape(value)
        return value


def storable_columns(tables: list[Table]) -> None:
    """Give every plain text column of `tables` the `StorableText` type (JSON columns keep theirs)."""
    for table in tables:
        for column in table.columns:
            kind = column.type
            if isinstance(kind, TypeDecorator) and not isinstance(kind, StorableText):
                kind = kind.impl_instance  # sqlmodel's AutoString decorates a String
            if isinstance(kind, String) and not isinstance(kind, JSON):
                column.type = StorableText(kind)


def is_text_column(table: Table, name: str) -> bool:
    """Whether `name` is a column of `table` whose values `escape` applies to."""
    column = table.columns.get(name)
    return column is not None and isinstance(column.type, StorableText)
