"""Turn JSON tool responses into table rows, the shape Great Expectations validates.

- nested objects become dotted columns: ``{"customer": {"tier": "gold"}}`` -> ``customer.tier``;
- a list of objects (records) is exploded: one row per record, its fields as ``items.sku`` next
  to the parent's fields (two lists of records in one response give their cross product);
- a list of plain values stays one value (GX can check its type or length);
- a response that is itself a list of records gives one row per record; a scalar gives ``value``.

Every row carries ``_response_rows``: how many rows its response became, so a suite can bound the
size of one response (``expect_column_values_to_be_between(column="_response_rows", ...)``).
"""

from collections.abc import Iterator
from typing import Any

from trailcheck.models.contract import RESPONSE_ROWS_COLUMN

Row = dict[str, Any]
MAX_ROWS_PER_RESPONSE = 10_000


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _rows(value: Any, prefix: str) -> list[Row]:
    """The rows of one object: its own fields, times the rows of each list of records it holds."""
    if not isinstance(value, dict):
        return [{prefix or "value": value}]
    base: Row = {}
    nested: list[list[Row]] = []
    for key, item in value.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            sub = _rows(item, name)
            if len(sub) == 1:
                base.update(sub[0])
            else:
                nested.append(sub)
        elif _is_records(item):
            nested.append([row for record in item for row in _rows(record, name)])
        else:
            base[name] = item
    rows = [base]
    for group in nested:
        rows = [{**row, **extra} for row in rows for extra in group]
        if len(rows) > MAX_ROWS_PER_RESPONSE:
            raise ValueError(
                f"a response flattens to over {MAX_ROWS_PER_RESPONSE:,} rows (lists of records multiply); "
                "validate that list as its own tool response instead"
            )
    return rows


def flatten_response(response: Any) -> list[Row]:
    """The rows of one response (see the module docstring)."""
    if _is_records(response):
        rows = [row for record in response for row in _rows(record, "")]
    else:
        rows = _rows(response, "")
    for row in rows:
        row[RESPONSE_ROWS_COLUMN] = len(rows)
    return rows


def flatten_responses(responses: list[Any]) -> Iterator[tuple[int, Row]]:
    """(index of the response, row) for every row of every response, in order."""
    for i, response in enumerate(responses):
        for row in flatten_response(response):
            yield i, row


def get_path(response: Any, dotted: str) -> tuple[bool, Any]:
    """(found, value) of a dotted column in one response; lists of records yield the first record's."""
    current = response
    parts = dotted.split(".")
    i = 0
    while i < len(parts):
        if isinstance(current, list) and current and isinstance(current[0], dict):
            current = current[0]
            continue
        if not isinstance(current, dict):
            return False, None
        # A key may itself contain dots: try the longest key first.
        for j in range(len(parts), i, -1):
            key = ".".join(parts[i:j])
            if key in current:
                current, i = current[key], j
                break
        else:
            return False, None
    return True, current
