"""`trailcheck generate-traces` and `trailcheck sample`: output, report and exit codes."""

import json
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from bench.otlp_load import request_body
from tests.live_data import jsonl, trace_dict
from trailcheck.cli import app
from trailcheck.cli import live as live_commands
from trailcheck.collect import ReceiverSettings, build_receiver
from trailcheck.serving import serve_in_thread

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAILCHECK_JUDGE_URL", raising=False)
    monkeypatch.setattr(live_commands.out, "width", 250)
    monkeypatch.setattr(live_commands.err, "width", 250)
    return tmp_path


def test_generate_then_sample_flags_the_drift_and_exits_1(home: Path) -> None:
    stream = home / "prod.jsonl"
    made = runner.invoke(app, ["generate-traces", str(stream), "--hours", "14", "--per-hour", "200",
                               "--cost-drift-at", "12"])  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "wrote 2800 traces" in made.output and "cost x1.35 from 2026-11-01 12:00Z" in made.output
    report = home / "report.json"
    result = runner.invoke(app, ["sample", str(stream), "--rate", "0.2", "--report-json", str(report)])
    assert result.exit_code == 1, result.output
    assert "ATTENTION" in result.output and "read 2800 traces" in result.output
    assert "order_status cost_mean from 2026-11-01 12:00Z" in result.output
    data = json.loads(report.read_text())
    assert data["read"] == 2800 and data["anomalies"]
    assert (home / "results.db").is_file()


def test_a_healthy_stream_exits_0(home: Path) -> None:
    stream = home / "calm.jsonl"
    runner.invoke(app, ["generate-traces", str(stream), "--hours", "3", "--per-hour", "100"])
    result = runner.invoke(app, ["sample", str(stream)])
    assert result.exit_code == 0, result.output
    assert "OK live run" in result.output


def test_bad_input_exits_2_naming_the_place(home: Path) -> None:
    missing = runner.invoke(app, ["sample", str(home / "nope.jsonl")])
    assert missing.exit_code == 2 and "nope.jsonl: no such trace file" in missing.output
    broken = home / "broken.jsonl"
    broken.write_text(jsonl([trace_dict(1)]) + '{"messages": "not a list"}\n' + jsonl([trace_dict(2)]))
    unknown = runner.invoke(app, ["sample", str(broken), "--check", "nope"])
    assert unknown.exit_code == 2 and "unknown check(s) 'nope'" in unknown.output
    strict = runner.invoke(app, ["sample", str(broken), "--max-bad-records", "0"])
    assert strict.exit_code == 2
    assert f"{broken}:2: field 'messages'" in strict.output
    lenient = runner.invoke(app, ["sample", str(broken)])
    assert lenient.exit_code == 0 and "1 bad skipped" in lenient.output
    assert f"skipped: {broken}:2: field 'messages'" in lenient.output


def test_sample_reads_an_http_endpoint_page_by_page(home: Path) -> None:
    from fastapi import FastAPI

    from trailcheck.serving import serve_in_thread

    traces = [trace_dict(i, "refund" if i % 2 else "status") for i in range(45)]
    api = FastAPI()

    @api.get("/api/traces")
    def page(limit: int, cursor: int = 0) -> object:
        more = cursor + limit < len(traces)
        return {"traces": traces[cursor : cursor + limit], "next_cursor": cursor + limit if more else None}

    with serve_in_thread(api) as base:
        result = runner.invoke(app, ["sample", f"{base}/api/traces", "--rate", "1"])
    assert result.exit_code == 0, result.output
    assert f"read 45 traces from {base}/api/traces" in result.output
    assert "refund" in result.output and "status" in result.output


def test_since_and_until_keep_one_window_of_the_stream(home: Path) -> None:
    stream = home / "day.jsonl"
    runner.invoke(app, ["generate-traces", str(stream), "--hours", "3", "--per-hour", "100"])
    report = home / "r.json"
    args = ["sample", str(stream), "--since", "2026-11-01T01:00:00", "--until", "2026-11-01T02:00:00"]
    result = runner.invoke(app, [*args, "--report-json", str(report)])
    assert result.exit_code == 0, result.output
    assert "read 100 traces" in result.output and "200 outside --since/--until" in result.output
    data = json.loads(report.read_text())
    assert {w["window_start"] for w in data["windows"]} == {"2026-11-01T01:00:00Z"}


def test_sample_reads_what_collect_stored_and_a_named_format(home: Path) -> None:
    store = home / "otlp-store"
    app_ = build_receiver(ReceiverSettings(store=store))
    with serve_in_thread(app_) as url:
        ids = [f"{i:032x}" for i in range(1, 41)]
        for k in range(0, 40, 10):
            answer = httpx.post(f"{url}/v1/traces", content=request_body(ids[k : k + 10], time.time_ns()))
            assert answer.status_code == 200
    app_.state.writer.stop()
    result = runner.invoke(app, ["sample", f"otlp-store:{store}", "--rate", "1", "--no-judge"])
    assert "read 40 traces" in result.output, result.output
    assert result.exit_code in (0, 1)  # every synthetic trace hides its failed refund: silent_error fails
    samples = Path(__file__).parent / "data" / "traces"
    named = runner.invoke(
        app, ["sample", str(samples / "pydantic_ai_history.json"), "--format", "pydantic-ai"]
    )
    assert "read 1 traces" in named.output, named.output
