"""Control and bidi characters from agents and files never reach the terminal raw."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.live_data import trace_dict
from trailcheck.cli import app
from trailcheck.render.terminal import escape, visible

HOSTILE = "refund\u202eexe.txt \x1b[2J\x1b]0;pwned\x07 \u2066x\u2069 \x9b"


def test_control_and_bidi_characters_become_visible_escapes() -> None:
    shown = visible(HOSTILE)
    assert shown == "refund\\u202eexe.txt \\x1b[2J\\x1b]0;pwned\\x07 \\u2066x\\u2069 \\x9b"
    assert visible("plain\ttext\nnext é 😀") == "plain\ttext\nnext é 😀"
    assert escape("[red]x[/] \u202e") == "\\[red]x\\[/] \\u202e"


@pytest.mark.usefixtures("prefect_harness")
def test_score_prints_hostile_trace_text_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    path = tmp_path / "t.jsonl"
    bad = trace_dict(1, tool_error=True, answer=f"All done {HOSTILE}")
    bad["trace_id"] = f"id-{HOSTILE}"
    path.write_text(json.dumps(bad) + "\n" + json.dumps({"trace_id": HOSTILE, "messages": 3}) + "\n")
    result = CliRunner().invoke(app, ["score", str(path)])
    raw = [c for c in ("\u202e", "\x1b", "\u2066", "\x9b", "\x07") if c in result.output]
    assert raw == [], result.output
    assert "\\u202e" in result.output  # shown, as an escape
