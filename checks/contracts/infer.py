"""Propose a contract suite from observed responses, for a person to review and edit.

Per flattened column it looks at what was observed and proposes what held everywhere: the column
exists, it is never null (or not: the null rate goes in `meta`), the types of its values, the range
of numbers, the set of values of a column with few distinct values, and the shape of strings that
all share one (``A1001``, ``A1002`` -> ``^[A-Z]\\d{4}$``). Observed ranges and sets are a start,
not the truth: every proposed expectation carries what it was inferred from in its `meta`.
No Great Expectations import: the proposal is plain suite JSON.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from trailcheck.analysis.flatten import flatten_response
from trailcheck.models.contract import RESPONSE_ROWS_COLUMN, ContractSuite, ExpectationSpec, ToolResponse

MAX_SET_SIZE = 12
_CLASSES = ((re.compile(r"[A-Z]"), "[A-Z]"), (re.compile(r"[a-z]"), "[a-z]"), (re.compile(r"\d"), r"\d"))


@dataclass
class _Column:
    present: int = 0
    nulls: int = 0
    types: set[str] = field(default_factory=set)
    values: set[Any] = field(default_factory=set)
    too_many_values: bool = False
    numbers: list[float] = field(default_factory=list)
    shapes: set[str] = field(default_factory=set)

    def observe(self, value: Any) -> None:
        self.present += 1
        if value is None:
            self.nulls += 1
            return
        self.types.add(type(value).__name__)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.numbers.append(float(value))
        if isinstance(value, str) and len(self.shapes) <= 1:
            self.shapes.add(shape_of(value))
        if isinstance(value, str | int | float | bool) and not self.too_many_values:
            self.values.add(value)
            self.too_many_values = len(self.values) > MAX_SET_SIZE


def shape_of(text: str) -> str:
    """A regex for strings shaped like `text`: runs of capitals, lowercase letters and digits generalized."""
    parts: list[tuple[str, int]] = []
    for char in text:
        token = next((cls for pattern, cls in _CLASSES if pattern.fullmatch(char)), re.escape(char))
        if parts and parts[-1][0] == token:
            parts[-1] = (token, parts[-1][1] + 1)
        else:
            parts.append((token, 1))
    return "^" + "".join(t if n == 1 else f"{t}{{{n}}}" for t, n in parts) + "$"


def _expectation(kind: str, why: dict[str, Any], **kwargs: Any) -> ExpectationSpec:
    return ExpectationSpec(type=kind, kwargs=kwargs, meta={"inferred": why})


def _type_list(types: set[str]) -> list[str]:
    if types & {"int", "float"}:
        types = types | {"int", "float"}
    return sorted(types)


def _column_expectations(name: str, col: _Column, rows: int) -> list[ExpectationSpec]:
    observed = {"rows": rows, "present": col.present, "null_rate": round(col.nulls / max(col.present, 1), 4)}
    out = [_expectation("expect_column_to_exist", observed, column=name)]
    if col.present == rows and col.nulls == 0:
        out.append(_expectation("expect_column_values_to_not_be_null", observed, column=name))
    if not col.types:
        return out
    out.append(_expectation("expect_column_values_to_be_in_type_list", observed, column=name,
                            type_list=_type_list(col.types)))  # fmt: skip
    distinct = len(col.values)
    repeated = not col.too_many_values and distinct * 2 <= col.present - col.nulls
    if col.types <= {"str", "bool"} and repeated and distinct > 0:
        values = sorted(col.values, key=str)
        out.append(_expectation("expect_column_values_to_be_in_set", {**observed, "distinct": distinct},
                                column=name, value_set=values))  # fmt: skip
    elif col.types == {"str"} and len(col.shapes) == 1:
        out.append(_expectation("expect_column_values_to_match_regex", observed, column=name,
                                regex=next(iter(col.shapes))))  # fmt: skip
    if col.numbers and col.types <= {"int", "float"}:
        low, high = min(col.numbers), max(col.numbers)
        out.append(_expectation("expect_column_values_to_be_between", {**observed, "note": "observed range"},
                                column=name, min_value=_plain(low), max_value=_plain(high)))  # fmt: skip
    return out


def _plain(number: float) -> int | float:
    return int(number) if number.is_integer() else number


def infer_suite(tool: str, responses: Sequence[ToolResponse]) -> ContractSuite:
    """A proposed contract for `tool` from its observed (successful) responses."""
    columns: dict[str, _Column] = {}
    rows = 0
    for response in responses:
        for row in flatten_response(response.response):
            rows += 1
            for name, value in row.items():
                columns.setdefault(name, _Column()).observe(value)
    expectations = []
    for name, col in columns.items():
        if name != RESPONSE_ROWS_COLUMN:
            expectations.extend(_column_expectations(name, col, rows))
    if columns.get(RESPONSE_ROWS_COLUMN):
        counts = columns[RESPONSE_ROWS_COLUMN].numbers
        low, high = _plain(min(counts)), _plain(max(counts))
        why = {"note": "rows per response, observed"}
        expectations.append(
            _expectation(
                "expect_column_values_to_be_between",
                why,
                column=RESPONSE_ROWS_COLUMN,
                min_value=low,
                max_value=high,
            )
        )
    return ContractSuite(
        name=tool,
        expectations=expectations,
        meta={
            "tool": tool,
            "proposed_from_responses": len(responses),
            "status": "proposed: review before use",
        },
    )
