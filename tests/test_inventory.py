"""The integration inventory and contract suite files: what loads, and the errors for what does not."""

import json
import shutil
from pathlib import Path

import pytest

from tests.contract_fixtures import INVENTORY
from trailcheck.checks.contracts.gx_validate import verify_suites
from trailcheck.loading.inventory import ContractFileError, load_contract_suite, load_inventory
from trailcheck.models.inventory import AuthType


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the reference inventory and its suites."""
    target = tmp_path / "contracts"
    shutil.copytree(INVENTORY.parent, target)
    return target


def _suite_error(path: Path) -> str:
    with pytest.raises(ContractFileError) as caught:
        load_contract_suite(path)
    return str(caught.value)


def _error(path: Path) -> str:
    with pytest.raises(ContractFileError) as caught:
        load_inventory(path)
    return str(caught.value)


def test_the_reference_inventory_loads_with_a_suite_per_tool() -> None:
    loaded = load_inventory(INVENTORY)
    tools = {t.name: t for t in loaded.inventory.tools}
    assert (
        set(tools)
        == set(loaded.suites)
        == {"lookup_order", "lookup_account", "issue_refund", "create_ticket"}
    )
    order = tools["lookup_order"]
    assert order.endpoint.route == "GET /orders/{order_id}" and order.endpoint.path_params == ["order_id"]
    assert order.auth.type is AuthType.BEARER and order.auth.secret_env == "ORDERS_API_TOKEN"
    assert order.rate_limit is not None and order.rate_limit.per_second == 50
    assert tools["lookup_account"].rate_limit.per_second == 10  # type: ignore[union-attr]
    # What the gateway will ask: which tool serves this request, with which path parameters.
    found = loaded.inventory.tool_for_route("get", "/orders/A1001")
    assert found is not None and found[0].name == "lookup_order" and found[1] == {"order_id": "A1001"}
    assert loaded.inventory.tool_for_route("POST", "/orders/A1001") is None
    assert loaded.inventory.tool_for_route("GET", "/orders/A1001/items") is None
    assert loaded.inventory.tool_for_route("POST", "/refunds")[0].name == "issue_refund"  # type: ignore[index]


def test_unknown_field_names_file_line_tool_and_fix(copy: Path) -> None:
    path = copy / "tools.yaml"
    path.write_text(
        path.read_text().replace("    owner: crm-team@example.com", "    ownr: crm-team@example.com")
    )
    text = _error(path)
    line = next(i for i, text_line in enumerate(path.read_text().splitlines(), 1) if "ownr:" in text_line)
    assert f"invalid inventory {path}" in text
    assert f"{path}:{line}: tool 'lookup_account', ownr: unknown field 'ownr'" in text
    assert "fix: did you mean 'owner'?" in text
    assert "tool 'lookup_account', owner: required field 'owner' is missing" in text


def test_a_pasted_secret_is_refused_and_never_echoed_as_a_value_to_keep(copy: Path) -> None:
    path = copy / "tools.yaml"
    path.write_text(path.read_text().replace("secret_env: ORDERS_API_TOKEN", "secret_env: sk-live-abc123"))
    text = _error(path)
    assert "tool 'lookup_order', auth.secret_env" in text
    assert "name the environment variable that holds the secret" in text
    path.write_text(
        (INVENTORY.parent / "tools.yaml").read_text().replace("secret_env: ORDERS_API_TOKEN", "token: abc")
    )
    text = _error(path)
    assert "unknown field 'token'" in text and "never put a secret in the inventory" in text


def test_auth_endpoint_and_duplicate_problems(copy: Path) -> None:
    path = copy / "tools.yaml"
    original = path.read_text()
    path.write_text(original.replace("auth: {type: none}", "auth: {type: bearer}"))
    assert "needs exactly one of secret_env" in _error(path)
    path.write_text(original.replace('path: "/orders/{order_id}"', 'path: "/orders/{order_id"'))
    assert "malformed placeholder" in _error(path)
    path.write_text(original.replace('method: GET, path: "/accounts', 'method: FETCH, path: "/accounts'))
    assert "tool 'lookup_account', endpoint.method" in _error(path)
    path.write_text(original.replace("name: create_ticket", "name: issue_refund"))
    assert "duplicate tool name 'issue_refund'" in _error(path)
    path.write_text(original.replace("status: {enum: [open]}", "status: {enum: open}"))
    assert "invalid JSON Schema at properties/status/enum" in _error(path)


def test_yaml_syntax_error_and_missing_contract_file(copy: Path) -> None:
    path = copy / "tools.yaml"
    original = path.read_text()
    path.write_text(original.replace("tools:\n", "tools:\n  - [unclosed\n", 1))
    assert "not valid YAML" in _error(path)
    (copy / "issue_refund.json").unlink()
    path.write_text(original)
    text = _error(path)
    line = next(
        i
        for i, text_line in enumerate(original.splitlines(), 1)
        if "contract: issue_refund.json" in text_line
    )
    assert (
        f"{path}:{line}: tool 'issue_refund', contract: contract suite file 'issue_refund.json' not found"
        in text
    )
    assert "trailcheck contracts infer" in text
    with pytest.raises(ContractFileError, match="file not found"):
        load_inventory(copy / "nope.yaml")


def test_malformed_suite_json_names_file_line_and_field(copy: Path) -> None:
    suite = copy / "lookup_order.json"
    original = suite.read_text()
    suite.write_text(original.replace('"column": "status"\n', '"column": "status",\n', 1))
    with pytest.raises(ContractFileError) as caught:
        load_contract_suite(suite)
    assert f"invalid contract suite {suite}" in str(caught.value) and "not valid JSON" in str(caught.value)
    assert caught.value.problems[0].line is not None

    data = json.loads(original)
    data["expectations"][5]["type"] = "expect_column_values_to_be_in_sett"
    data["expectations"][2]["kwargss"] = {}
    suite.write_text(json.dumps(data, indent=2))
    text = str(_suite_error(suite))
    line = next(
        i for i, text_line in enumerate(suite.read_text().splitlines(), 1) if '"kwargss"' in text_line
    )
    assert (
        f"{suite}:{line}: expectation #3 (expect_column_values_to_match_regex), kwargss: unknown field"
        in text
    )
    assert "did you mean 'kwargs'?" in text

    del data["expectations"][2]["kwargss"]
    suite.write_text(json.dumps(data, indent=2))
    text = str(_suite_error(suite))
    line = next(i for i, text_line in enumerate(suite.read_text().splitlines(), 1) if "_in_sett" in text_line)
    assert (
        f"{suite}:{line}: expectation #6 (expect_column_values_to_be_in_sett): unknown expectation type"
        in text
    )
    assert "did you mean 'expect_column_values_to_be_in_set'?" in text

    data["expectations"][5]["type"] = "expect_column_values_to_be_in_set"
    del data["expectations"][5]["kwargs"]["column"]
    suite.write_text(json.dumps(data, indent=2))
    assert "needs kwargs.column" in str(_suite_error(suite))


def test_gx_refusing_kwargs_is_a_load_error_at_the_expectation(copy: Path) -> None:
    suite = copy / "create_ticket.json"
    data = json.loads(suite.read_text())
    index = next(
        i for i, e in enumerate(data["expectations"]) if e["type"] == "expect_column_values_to_be_in_set"
    )
    data["expectations"][index]["kwargs"] = {"column": "status", "value_sett": ["open"]}
    suite.write_text(json.dumps(data, indent=2))
    loaded = load_inventory(copy / "tools.yaml")  # structurally fine: GX decides about kwargs
    with pytest.raises(ContractFileError) as caught:
        verify_suites(loaded)
    text = str(caught.value)
    line = (
        next(
            i for i, text_line in enumerate(suite.read_text().splitlines(), 1) if '"value_sett"' in text_line
        )
        - 2
    )
    assert f"{suite.resolve()}:{line}: expectation #{index + 1} (expect_column_values_to_be_in_set)" in text
    assert "Great Expectations refuses its kwargs" in text and "value_set" in text
