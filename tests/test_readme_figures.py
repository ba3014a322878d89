"""The README's perturbed-suite figures and output come from the code: a replay must reproduce them."""

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trailcheck import cli
from trailcheck.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _readme_block() -> tuple[str, list[str]]:
    text = (ROOT / "README.md").read_text()
    start = text.index("Reference v1, which passes every clean case, fails")
    claim = text[start : text.index("\n\n", start)]
    block = text[text.index("```text\n", start) + len("```text\n") : text.index("\n```", start)]
    return claim, block.splitlines()


@pytest.mark.usefixtures("prefect_harness")
def test_the_perturbed_suite_figures_and_output_in_the_readme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 80)
    result = runner.invoke(app, ["run", str(ROOT / "suites" / "support-desk-perturbed.yaml")])
    assert result.exit_code == 1, result.output
    claim, block = _readme_block()
    failed, total = map(int, re.search(r"fails (\d+) of its (\d+) variants", claim).groups())  # type: ignore[union-attr]
    assert f"{total} cases x 1 trial(s): {total - failed} passed, {failed} failed" in " ".join(
        result.output.split()
    )
    output = result.output.splitlines()
    shown = [line for line in block if line != "..." and not line.startswith("pass@1")]
    for line in shown:  # every line shown is printed as such (the run id aside), in that order
        assert line in output, line
    positions = [output.index(line) for line in shown]
    assert positions == sorted(positions)
