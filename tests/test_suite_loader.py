"""Loading suites: defaults, multi-turn cases, and errors that name file, line, case and field."""

import json
from pathlib import Path

import pytest

from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.loading.suite import MAX_EXPANDED_NODES, SuiteError
from trailcheck.models import MatchMode, Suite

GOOD = """
name: support
version: "3"
defaults:
  task_type: refund
  tags: [smoke]
  context: {channel: web}
  expectations:
    never_call: [delete_account]
    budgets: {max_tokens: 5000}
cases:
  - id: refund-ok
    turns:
      - Where is my order A1001?
      - Please refund it
    context: {customer_id: C100}
    tags: [refund]
    expectations:
      tool_calls:
        mode: superset
        calls:
          - name: lookup_order
            args: {order_id: A1001}
          - name: issue_refund
            args:
              order_id: {regex: "^A1001$"}
              amount: {min: 0, max: 42.5}
              reason: {any: true, optional: true}
      final_answer: {contains: refund, not_contains: [sorry]}
      escalate: false
  - id: status
    task_type: order_status
    turns: ["Where is A1002?"]
    expectations:
      never_call: [issue_refund]
      custom:
        - check: tests.custom_checks.MentionsCustomerName
          args: {customer: Ada}
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def errors_of(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(SuiteError) as info:
        load_checked_suite(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_good_suite_with_defaults_and_turns(tmp_path: Path) -> None:
    suite = load_checked_suite(write(tmp_path, GOOD))
    first, second = suite.cases
    assert [t.content for t in first.turns] == ["Where is my order A1001?", "Please refund it"]
    assert first.task_type == "refund" and second.task_type == "order_status"
    assert first.tags == ["smoke", "refund"]
    assert first.context == {"channel": "web", "customer_id": "C100"}
    assert first.expectations.never_call == ["delete_account"]
    assert second.expectations.never_call == ["issue_refund"]  # the case's own value wins
    assert first.expectations.budgets and first.expectations.budgets.max_tokens == 5000
    assert first.expectations.tool_calls and first.expectations.tool_calls.mode is MatchMode.SUPERSET
    amount = first.expectations.tool_calls.calls[1].args["amount"]
    assert (amount.kind, amount.max) == ("range", 42.5)


def test_bundled_suites_load() -> None:
    suites = sorted(Path("suites").glob("*.yaml"))
    assert suites, "the repo bundles at least one suite"
    for path in suites:
        assert load_checked_suite(path).cases


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (
            ("final_answer: {", "final_answr: {"),
            ["line 29", "case 'refund-ok'", "final_answr", "'final_answer'"],
        ),
        (
            ('regex: "^A1001$"', 'regex: "^A(1001$"'),
            ["case 'refund-ok'", "args.order_id.regex", "regular expression"],
        ),
        (("id: status", "id: refund-ok"), ["duplicate case id", "first used at line 12"]),
        (("tests.custom_checks.MentionsCustomerName", "tests.custom_checks.Nope"), ["case 'status'", "Nope"]),
        (("mode: superset", "mode: sometimes"), ["tool_calls.mode", "strict"]),
        (("turns: [", "turnz: ["), ["case 'status'", "unknown field 'turnz'", "did you mean 'turns'"]),
        (("escalate: false", "escalate: maybe"), ["case 'refund-ok'", "escalate"]),
    ],
)
def test_errors_name_the_place_and_the_fix(
    tmp_path: Path, mutation: tuple[str, str], expected: list[str]
) -> None:
    old, new = mutation
    assert old in GOOD
    message = errors_of(tmp_path, GOOD.replace(old, new, 1))
    for fragment in expected:
        if fragment.startswith("line "):
            assert f"suite.yaml:{fragment.removeprefix('line ')}:" in message, message
        else:
            assert fragment in message, message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("final_answer: {", "final_answr: {").replace("turns: [", "turnz: [")
    assert "(3 problems)" in errors_of(tmp_path, text)  # two typos + the missing `turns` they cause


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty file"),
        ("- a\n- b\n", "a list"),
        ("name: x\ncases: [\n", "not valid YAML"),
        ("name: x\ncases: []\n", "cases"),
        ("name: Bad Name\ncases: [{id: a, turns: [hi]}]\n", "name"),
        ("name: x\ncases: [{id: a, turns: []}]\n", "turns"),
        ("name: x\ncases: [{id: 'has space', turns: [hi]}]\n", "case 'has space', id"),
        (
            "name: x\ncases: [{id: a, turns: [hi], expectations: {final_answer: {json_schema: {type: 5}}}}]",
            "JSON",
        ),
        ("name: x\ncases: [{id: a, turns: [hi], foo: 1}]\n", "allowed fields here"),
    ],
)
def test_malformed_files(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in errors_of(tmp_path, text)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="file not found"):
        load_checked_suite(tmp_path / "nope.yaml")


def test_yaml_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    message = errors_of(tmp_path, "\n".join(lines) + "\nname: x\ncases: *a8\n")
    assert f"over {MAX_EXPANDED_NODES:,} nodes" in message


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    message = errors_of(tmp_path, "name: !!python/object/apply:os.system ['echo hi']\ncases: []\n")
    assert "not valid YAML" in message


def test_json_schema_export_matches_the_model(tmp_path: Path) -> None:
    schema = Suite.model_json_schema()
    assert schema["required"] == ["name", "cases"]
    assert schema["additionalProperties"] is False
    assert "ArgMatcher" in json.dumps(schema)
