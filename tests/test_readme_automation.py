"""The README's Prefect automation on failed regression runs is valid against a real Prefect API."""

import re
from pathlib import Path

import pytest
from prefect.automations import Automation

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.usefixtures("prefect_harness")
def test_the_readme_automation_is_created_as_written() -> None:
    code = re.search(r"```python\n(# automation\.py.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert code, "README lost its automation example"
    exec(compile(code[1], "README.md:automation.py", "exec"), {})
    created = Automation.read(name="trailcheck-regression-failed")
    assert created.trigger.expect == {"prefect.flow-run.Failed"}
    assert created.actions[0].type == "send-notification"
    assert "verdict" in created.description
