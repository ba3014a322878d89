"""Contracts in Great Expectations: real responses of the reference tools pass; injected breaks fail it
and the inline schema check alike; flattening, batching, inference."""

import json

import pytest

from tests.contract_fixtures import record_reference_responses, reference_inventory
from trailcheck.analysis.flatten import flatten_response
from trailcheck.checks.contracts.gx_validate import ContractValidator, build_gx_suite
from trailcheck.checks.contracts.infer import infer_suite, shape_of
from trailcheck.checks.contracts.inline import ResponseChecker
from trailcheck.loading.inventory import LoadedInventory
from trailcheck.models.contract import ContractSuite, ToolResponse
from trailcheck.variants.contract_break import NoBreakFound, break_response


@pytest.fixture(scope="module")
def loaded() -> LoadedInventory:
    return reference_inventory()


@pytest.fixture(scope="module")
def recorded() -> list[ToolResponse]:
    return record_reference_responses()


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator()


def _by_tool(responses: list[ToolResponse]) -> dict[str, list[ToolResponse]]:
    grouped: dict[str, list[ToolResponse]] = {}
    for r in responses:
        grouped.setdefault(r.tool, []).append(r)
    return grouped


def test_real_reference_responses_meet_their_contracts(
    loaded: LoadedInventory, recorded: list[ToolResponse], validator: ContractValidator
) -> None:
    grouped = _by_tool(recorded)
    assert set(grouped) == {"lookup_order", "lookup_account", "issue_refund", "create_ticket"}
    checker = ResponseChecker({t.name: t.response_schema for t in loaded.inventory.tools})
    for tool, responses in grouped.items():
        result = validator.validate(tool, loaded.suites[tool], responses)
        assert result.responses == len(responses) and result.rows == len(responses)
        assert [o.describe() for o in result.outcomes if not o.success] == []
        assert result.passed == len(loaded.suites[tool].expectations)
        suite = loaded.suites[tool].expectations
        assert [(o.expectation, o.column) for o in result.outcomes] == [(e.type, e.column) for e in suite]
        assert all(checker.problem(tool, r.response) is None for r in responses)


@pytest.mark.parametrize("seed", range(6))
def test_every_injected_break_fails_gx_and_the_inline_check(
    seed: int, loaded: LoadedInventory, recorded: list[ToolResponse], validator: ContractValidator
) -> None:
    checker = ResponseChecker({t.name: t.response_schema for t in loaded.inventory.tools})
    for tool, responses in _by_tool(recorded).items():
        spec = loaded.tool(tool)
        assert spec is not None
        victim = responses[seed % len(responses)]
        broken = break_response(tool, victim.response, loaded.suites[tool], spec.response_schema, seed)
        assert broken.response != victim.response
        # Deterministic: the same seed breaks the same field the same way.
        again = break_response(tool, victim.response, loaded.suites[tool], spec.response_schema, seed)
        assert again == broken
        assert checker.problem(tool, broken.response) is not None, broken.description
        batch = [*responses, ToolResponse(tool=tool, response=broken.response, source="the broken one")]
        result = validator.validate(tool, loaded.suites[tool], batch)
        failed = [o for o in result.outcomes if not o.success]
        assert failed, f"GX accepted {broken.description}"
        assert any(broken.field == o.column for o in failed), [o.describe() for o in failed]
        counted = [o for o in failed if o.unexpected_count]
        if broken.kind != "missing":
            assert counted and all(o.unexpected_count == 1 for o in counted)
            assert any("the broken one" in o.example_sources for o in counted)


def test_break_kinds_and_what_gx_reports(
    loaded: LoadedInventory, recorded: list[ToolResponse], validator: ContractValidator
) -> None:
    order = next(r for r in recorded if r.tool == "lookup_order")
    suite = loaded.suites["lookup_order"]
    out_of_set = break_response("lookup_order", order.response, suite, kinds={"out_of_set"}, seed=3)
    assert out_of_set.kind == "out_of_set" and out_of_set.field == "status"
    assert out_of_set.replacement not in ("processing", "shipped", "delivered")
    null = break_response("lookup_order", order.response, suite, kinds={"null"}, seed=1)
    assert null.kind == "null" and null.response[null.field] is None
    wrong = break_response("lookup_order", order.response, suite, kinds={"wrong_type"}, seed=2)
    assert wrong.kind == "wrong_type" and type(wrong.replacement) is not type(wrong.original)
    batch = [
        ToolResponse(tool="lookup_order", response=b.response, source=b.kind) for b in (out_of_set, null)
    ]
    result = validator.validate("lookup_order", suite, batch)
    reasons = {o.expectation: o for o in result.outcomes if not o.success}
    in_set = reasons["expect_column_values_to_be_in_set"]
    assert in_set.unexpected_count == 1 and in_set.examples == [out_of_set.replacement]
    assert in_set.example_sources == ["out_of_set"]
    assert reasons["expect_column_values_to_not_be_null"].column == null.field
    with pytest.raises(NoBreakFound):
        break_response("t", {"x": 1}, ContractSuite(name="t", expectations=[]))


def test_a_break_from_the_schema_alone(loaded: LoadedInventory, recorded: list[ToolResponse]) -> None:
    account = next(r for r in recorded if r.tool == "lookup_account")
    schema = loaded.tool("lookup_account").response_schema  # type: ignore[union-attr]
    broken = break_response("lookup_account", account.response, schema=schema, seed=5)
    assert ResponseChecker({"lookup_account": schema}).problem("lookup_account", broken.response)


def test_flatten_dots_nested_fields_and_explodes_records() -> None:
    response = {
        "order_id": "A1",
        "customer": {"tier": "gold", "address": {"city": "Paris"}},
        "items": [{"sku": "k", "qty": 1}, {"sku": "t", "qty": 2}],
        "tags": ["a", "b"],
    }
    rows = flatten_response(response)
    assert rows == [
        {"order_id": "A1", "customer.tier": "gold", "customer.address.city": "Paris", "tags": ["a", "b"],
         "items.sku": "k", "items.qty": 1, "_response_rows": 2},
        {"order_id": "A1", "customer.tier": "gold", "customer.address.city": "Paris", "tags": ["a", "b"],
         "items.sku": "t", "items.qty": 2, "_response_rows": 2},
    ]  # fmt: skip
    assert flatten_response([{"a": 1}, {"a": 2}]) == [
        {"a": 1, "_response_rows": 2},
        {"a": 2, "_response_rows": 2},
    ]
    assert flatten_response("plain") == [{"value": "plain", "_response_rows": 1}]
    assert len(flatten_response({"a": [{"x": 1}, {"x": 2}], "b": [{"y": 1}, {"y": 2}, {"y": 3}]})) == 6


def test_nested_and_exploded_columns_are_validated(validator: ContractValidator) -> None:
    suite = ContractSuite.model_validate(
        {
            "name": "cart",
            "expectations": [
                {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "customer.tier",
                                                                       "value_set": ["gold", "standard"]}},
                {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "items.sku"}},
                {"type": "expect_column_values_to_be_between",
                 "kwargs": {"column": "_response_rows", "min_value": 1, "max_value": 2}},
            ],
        }
    )  # fmt: skip
    good = {"customer": {"tier": "gold"}, "items": [{"sku": "k"}, {"sku": "t"}]}
    bad = {"customer": {"tier": "platinum"}, "items": [{"sku": "k"}, {"sku": None}, {"sku": "z"}]}
    responses = [ToolResponse(tool="cart", response=r, source=s) for r, s in ((good, "good"), (bad, "bad"))]
    result = validator.validate("cart", suite, responses)
    failed = {o.column: o for o in result.outcomes if not o.success}
    assert result.rows == 5
    assert failed["customer.tier"].unexpected_count == 3 and failed["customer.tier"].examples[0] == "platinum"
    assert failed["items.sku"].unexpected_count == 1 and failed["items.sku"].example_sources == ["bad"]
    assert failed["_response_rows"].unexpected_count == 3  # every row of the 3-row response


def test_batches_sum_like_one_batch(loaded: LoadedInventory, recorded: list[ToolResponse]) -> None:
    suite = loaded.suites["lookup_order"]
    orders = [r for r in recorded if r.tool == "lookup_order"]
    broken = [
        ToolResponse(tool="lookup_order", response=break_response("lookup_order", o.response, suite,
                                                                  kinds={"out_of_set"}, seed=i).response,
                     source=f"broken {i}")
        for i, o in enumerate(orders)
    ]  # fmt: skip
    responses = (orders + broken) * 3
    whole = ContractValidator().validate("lookup_order", suite, responses)
    batched = ContractValidator(batch_rows=4).validate("lookup_order", suite, responses)
    summary = lambda r: [(o.expectation, o.column, o.success, o.unexpected_count) for o in r.outcomes]  # noqa: E731
    assert summary(whole) == summary(batched)
    in_set = next(o for o in batched.outcomes if o.expectation == "expect_column_values_to_be_in_set")
    assert in_set.unexpected_count == 3 * len(orders) and not in_set.success


def test_inferred_suites_are_valid_gx_and_pass_on_what_they_saw(
    recorded: list[ToolResponse], validator: ContractValidator
) -> None:
    for tool, responses in _by_tool(recorded).items():
        suite = infer_suite(tool, responses)
        round_tripped = ContractSuite.model_validate(json.loads(json.dumps(suite.gx_dict())))
        assert build_gx_suite(round_tripped).expectations  # GX accepts every proposed expectation
        result = validator.validate(tool, round_tripped, responses)
        assert [o.describe() for o in result.outcomes if not o.success] == []
    orders = infer_suite("lookup_order", [r for r in recorded if r.tool == "lookup_order"])
    by = {(e.type, e.column): e.kwargs for e in orders.expectations}
    assert by[("expect_column_values_to_match_regex", "order_id")]["regex"] == r"^[A-Z]\d{4}$"
    assert by[("expect_column_values_to_be_in_type_list", "total")]["type_list"] == ["float", "int"]
    assert ("expect_column_values_to_not_be_null", "delivered_on") not in by  # null for undelivered orders
    assert by[("expect_column_values_to_be_between", "total")] == {
        "column": "total",
        "min_value": 15.99,
        "max_value": 89,
    }
    assert shape_of("R-0001") == r"^[A-Z]\-\d{4}$"


def test_flatten_refuses_a_response_that_explodes_and_paths_find_dotted_fields() -> None:
    from trailcheck.analysis.flatten import MAX_ROWS_PER_RESPONSE, get_path

    side = int(MAX_ROWS_PER_RESPONSE**0.5) + 1
    exploding = {"a": [{"x": i} for i in range(side)], "b": [{"y": i} for i in range(side)]}
    with pytest.raises(ValueError, match="flattens to over"):
        flatten_response(exploding)
    response = {"customer": {"tier": "gold"}, "meta.version": 2, "items": [{"sku": "k"}, {"sku": "t"}]}
    assert get_path(response, "customer.tier") == (True, "gold")
    assert get_path(response, "meta.version") == (True, 2)  # a key that holds a dot
    assert get_path(response, "items.sku") == (True, "k")  # lists of records: the first record
    assert get_path(response, "customer.name") == (False, None)


def test_the_gateway_helper_breaks_by_inventory(
    loaded: LoadedInventory, recorded: list[ToolResponse]
) -> None:
    from trailcheck.variants.contract_break import break_tool_response

    refund = next(r for r in recorded if r.tool == "issue_refund")
    broken = break_tool_response(
        loaded, "issue_refund", refund.response, seed=11, kinds={"null", "wrong_type"}
    )
    assert broken.kind in ("null", "wrong_type") and broken.response != refund.response
    assert broken == break_tool_response(
        loaded, "issue_refund", refund.response, seed=11, kinds={"null", "wrong_type"}
    )
    with pytest.raises(KeyError, match="not in the inventory"):
        break_tool_response(loaded, "send_email", {})
