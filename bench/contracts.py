"""Benchmark: data contracts on tool responses (`python -m bench.contracts`).

100,000 tool responses (the reference lookup_order shape plus a nested `customer.tier`, one in a
thousand broken) are validated against a 10-expectation suite through `ContractValidator`: flatten
to rows, build object-dtype dataframes in batches, run the suite in an ephemeral GX context. It
also measures the Great Expectations import (in a fresh interpreter, as a first run pays it) and
the inline fast path (JSON Schema per response, what a replay runs). Writes a Markdown table to
bench/results/contracts-<date>.md. The goal: under 10 s for the 100,000 responses.
"""

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.run import machine

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_S = 10.0


def _expect(kind: str, **kwargs: object) -> dict:
    return {"type": f"expect_{kind}", "kwargs": kwargs}


SUITE = {
    "name": "bench-orders",
    "expectations": [
        _expect("column_values_to_not_be_null", column="order_id"),
        _expect("column_values_to_match_regex", column="order_id", regex=r"^A\d{4}$"),
        _expect(
            "column_values_to_be_in_set", column="status", value_set=["processing", "shipped", "delivered"]
        ),
        _expect("column_values_to_not_be_null", column="total"),
        _expect("column_values_to_be_in_type_list", column="total", type_list=["float", "int"]),
        _expect("column_values_to_be_between", column="total", min_value=0, max_value=100000),
        _expect("column_values_to_be_in_type_list", column="item", type_list=["str"]),
        _expect("column_values_to_be_in_set", column="customer.tier", value_set=["gold", "standard"]),
        _expect("column_values_to_match_regex", column="delivered_on", regex=r"^\d{4}-\d{2}-\d{2}$"),
        _expect("column_to_exist", column="customer_id"),
    ],
}
SCHEMA = {
    "type": "object",
    "required": ["order_id", "status", "total", "item", "customer"],
    "properties": {
        "order_id": {"type": "string", "pattern": r"^A\d{4}$"},
        "status": {"enum": ["processing", "shipped", "delivered"]},
        "total": {"type": "number", "minimum": 0},
        "item": {"type": "string"},
        "customer": {"type": "object", "properties": {"tier": {"enum": ["gold", "standard"]}}},
        "delivered_on": {"type": ["string", "null"]},
    },
}


def responses(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        delivered = rng.random() < 0.6
        response = {
            "order_id": f"A{1000 + i % 9000}",
            "customer_id": f"C{100 + i % 900}",
            "status": "delivered" if delivered else rng.choice(["processing", "shipped"]),
            "total": round(rng.uniform(1, 500), 2),
            "item": rng.choice(["kettle", "teapot", "mugs", "coasters"]),
            "delivered_on": "2026-11-10" if delivered else None,
            "customer": {"tier": rng.choice(["gold", "standard"])},
        }
        if i % 1000 == 999:  # a contract break now and then, so GX collects unexpected values
            response["status"] = "lost"
        out.append(response)
    return out


def gx_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import great_expectations; print(time.perf_counter() - t)"
    return float(
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=100_000, help="tool responses")
    parser.add_argument("--batch-rows", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/results/")
    args = parser.parse_args()

    import_s = gx_import_seconds()
    from trailcheck.checks.contracts.gx_validate import ContractValidator
    from trailcheck.checks.contracts.inline import ResponseChecker
    from trailcheck.models.contract import ContractSuite, ToolResponse

    suite = ContractSuite.model_validate(SUITE)
    data = [
        ToolResponse(tool="lookup_order", response=r, source=f"bench {i}")
        for i, r in enumerate(responses(args.n))
    ]

    validator = ContractValidator(batch_rows=args.batch_rows)
    started = time.perf_counter()
    validator.validate(
        "lookup_order", suite, data[:10]
    )  # GX import, context and suite: paid once per process
    warm_s = time.perf_counter() - started

    started = time.perf_counter()
    result = validator.validate("lookup_order", suite, data)
    validate_s = time.perf_counter() - started
    broken = [o for o in result.outcomes if not o.success]
    assert len(result.outcomes) == 10 and [o.unexpected_count for o in broken] == [args.n // 1000], broken

    checker = ResponseChecker({"lookup_order": SCHEMA})
    started = time.perf_counter()
    inline_broken = sum(checker.problem("lookup_order", r.response) is not None for r in data)
    inline_s = time.perf_counter() - started
    assert inline_broken == args.n // 1000

    verdict = "meets" if validate_s < GOAL_S else "MISSES"
    lines = [
        f"# Contracts benchmark {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| import great_expectations (fresh interpreter) | {import_s:.2f} |",
        f"| first validation in a process (import, context, suite; 10 responses) | {warm_s:.2f} |",
        f"| {args.n:,} responses x 10 expectations (flatten, dataframes, GX; "
        f"batches of {args.batch_rows:,} rows) | {validate_s:.2f} |",
        f"| inline fast path: {args.n:,} responses against the JSON Schema | {inline_s:.2f} |",
        "",
        f"{result.rows:,} rows; {len(broken)} expectation broken "
        f"({broken[0].describe() if broken else '-'}). "
        f"Goal under {GOAL_S:.0f} s: {verdict} it ({args.n / validate_s:,.0f} responses/s).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"contracts-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M%S}.md"
        path.write_text(text)
        print(f"written to {path}")


if __name__ == "__main__":
    main()
