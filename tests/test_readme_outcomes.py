"""The README's "Judging outcomes" suite loads as written, and its expectations do what it says."""

import re
from pathlib import Path

from trailcheck.loading.suite import load_suite

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_outcomes_example_is_a_valid_suite(tmp_path: Path) -> None:
    text = README.read_text()
    section = text[text.index("### Judging outcomes") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    path = tmp_path / "outcomes.yaml"
    path.write_text(block.group(1))
    suite = load_suite(path)
    exp = suite.cases[0].expectations
    assert exp.count.value == "succeeded" and exp.completed is True
    assert exp.tool_calls is not None and exp.tool_calls.in_scope("book_reservation")
    assert not exp.tool_calls.in_scope("search_flights")
    assert exp.final_answer is not None and exp.final_answer.scope.value == "any_reply"
    assert [a.probe for a in exp.state] == ["tools", "tools", "tickets"]
    env = suite.cases[0].environment
    assert env is not None and set(env.probes) == {"tools", "tickets", "ledger"} and env.reset is not None
