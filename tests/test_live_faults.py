"""Live sampling on hostile production traffic: repeated trace ids, secrets and personal data in traces."""

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.live_data import trace_dict
from trailcheck.cli import app

pytestmark = pytest.mark.usefixtures("prefect_harness")
TOKEN = "prod-tok-0a1b2c3d4e5f"
EMAIL = "jane.doe@example.com"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAILCHECK_JUDGE_URL", raising=False)
    monkeypatch.setenv("PROD_AGENT_TOKEN", TOKEN)
    monkeypatch.setenv("TRAILCHECK_REDACT_SECRET_ENV", "PROD_AGENT_TOKEN")
    return tmp_path


def test_repeated_trace_ids_are_stored_once_last_wins_and_traces_are_redacted(
    home: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    traces = [
        trace_dict(i, tool_error=True, answer=f"Refunded. Bearer {TOKEN}, mail {EMAIL}") for i in range(6)
    ]
    traces += [dict(traces[2], cost=0.5)]  # the same trace id again, later in the stream
    stream = home / "prod.jsonl"
    stream.write_text("".join(json.dumps(t) + "\n" for t in traces))
    result = CliRunner().invoke(app, ["sample", str(stream), "--rate", "1"])
    assert result.exit_code in (0, 1), result.output
    assert "UNIQUE" not in result.output
    engine = create_engine(f"sqlite:///{home / 'results.db'}")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT trace_id, scored, trace FROM live_scores")).all()
        everything = "\n".join(
            " | ".join(map(str, row))
            for table in ("live_runs", "live_scores", "health_windows", "anomalies")
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()
        )
    engine.dispose()
    ids = [r.trace_id for r in rows]
    assert sorted(ids) == [f"t-{i:06d}" for i in range(6)]  # the repeat is stored once
    assert rows[0].trace is not None and "[REDACTED:secret]" in "".join(r.trace for r in rows)
    leaks = [s for s in (TOKEN, EMAIL) if s in everything or s in result.output]
    assert leaks == []
    out, err = capfd.readouterr()
    assert TOKEN not in out + err and "[parameters:" not in out + err
