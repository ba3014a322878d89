"""`trailcheck collect`: OTLP/HTTP in (JSON, protobuf, the OTel exporter), durable, redacted, read back."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bench.otlp_load import request_body, run_load
from trailcheck.collect import ReceiverSettings, build_receiver
from trailcheck.loading.sources import open_source
from trailcheck.loading.sources.otlp_store import OtlpStoreSource
from trailcheck.loading.sources.segment_store import SegmentStore
from trailcheck.loading.traces import ReadTrace, read_traces
from trailcheck.serving import serve_in_thread

SAMPLES = Path(__file__).parent / "data" / "traces"


def _receiver(store: Path, **kwargs: int) -> Iterator[str]:
    app = build_receiver(ReceiverSettings(store=store, **kwargs))  # type: ignore[arg-type]
    with serve_in_thread(app) as url:
        yield url
    app.state.writer.stop()


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    store = tmp_path / "store"
    for url in _receiver(store):
        yield url, store


def _sample_trajectory(name: str) -> list[str]:
    (item,) = list(read_traces(SAMPLES / name))
    assert isinstance(item, ReadTrace)
    return item.to_trajectory().step_signatures()


def test_json_and_protobuf_exports_are_stored_and_read_back_as_the_same_traces(
    receiver: tuple[str, Path],
) -> None:
    url, store = receiver
    for line in (SAMPLES / "otel_genai_attributes.jsonl").read_text().splitlines():
        response = httpx.post(f"{url}/v1/traces", content=line, headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json() == {}
    protobuf = (SAMPLES / "otel_genai.pb").read_bytes()
    answer = httpx.post(
        f"{url}/v1/traces", content=protobuf, headers={"content-type": "application/x-protobuf"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/x-protobuf"
    traces = list(open_source(f"otlp-store:{store}"))
    assert len(traces) == 2
    assert sorted(
        t.to_trajectory().step_signatures() == _sample_trajectory("otel_genai.pb") for t in traces
    ) == [
        True,
        True,
    ]
    assert {t.task_type for t in traces} == {"refund"}


def test_the_real_otlp_http_exporter_is_received(receiver: tuple[str, Path]) -> None:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    url, store = receiver
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces")))
    tracer = provider.get_tracer("test")
    user = json.dumps(
        [{"role": "user", "parts": [{"type": "text", "content": "mail me at ann@example.com"}]}]
    )
    out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": "Done."}]}])
    with tracer.start_as_current_span("invoke_agent a"), tracer.start_as_current_span("chat m") as span:
        span.set_attributes(
            {"gen_ai.operation.name": "chat", "gen_ai.input.messages": user, "gen_ai.output.messages": out}
        )
    provider.shutdown()
    (trace,) = list(open_source(f"otlp-store:{store}"))
    assert trace.messages[0]["content"] == "mail me at redacted@redacted.invalid"  # redacted before writing
    assert "ann@example.com" not in "".join(p.read_text() for p in store.iterdir())


def test_bad_requests_are_refused_and_an_overloaded_receiver_answers_429(tmp_path: Path) -> None:
    for url in _receiver(tmp_path / "a"):
        bad = httpx.post(f"{url}/v1/traces", content=b"{nope", headers={"content-type": "application/json"})
        assert bad.status_code == 400 and "not JSON" in bad.json()["message"]
        junk = httpx.post(
            f"{url}/v1/traces", content=b"\x0a\xff", headers={"content-type": "application/x-protobuf"}
        )
        assert junk.status_code == 400
    for url in _receiver(tmp_path / "b", max_pending_bytes=-1):
        full = httpx.post(f"{url}/v1/traces", content=request_body(["ab" * 16], time.time_ns()))
        assert full.status_code == 429 and full.headers["retry-after"] == "1"


def test_time_filters_read_only_the_window_and_incomplete_traces_wait(tmp_path: Path) -> None:
    store = tmp_path / "store"
    now = time.time_ns()
    old, new = "11" * 16, "22" * 16
    for url in _receiver(store):
        for trace_id, start in ((old, now - 2 * 3600 * 10**9), (new, now)):
            assert httpx.post(f"{url}/v1/traces", content=request_body([trace_id], start)).status_code == 200
        spans = json.loads(request_body(["33" * 16], now))
        spans["resourceSpans"][0]["scopeSpans"][0]["spans"].pop()  # the root has not arrived yet
        assert httpx.post(f"{url}/v1/traces", json=spans).status_code == 200
    since = datetime.now(UTC) - timedelta(minutes=15)
    recent = OtlpStoreSource(store, since=since)
    assert [t.trace_id for t in recent] == [new]
    assert [t.trace_id for t in OtlpStoreSource(store)] == [old, new]
    assert {t.trace_id for t in OtlpStoreSource(store, settle_s=0)} == {old, new, "33" * 16}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_collect(store: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "trailcheck.cli", "collect", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("trailcheck collect did not start")


def kill_mid_load(store: Path, spans_per_s: float, seconds: float, kill_after_s: float) -> tuple[int, int]:
    """Load a `trailcheck collect` process, kill -9 it mid-load; (acknowledged, found of them) traces."""
    port = _free_port()
    process = _start_collect(store, port)
    import threading

    stop = threading.Event()
    killer = threading.Timer(kill_after_s, lambda: os.kill(process.pid, signal.SIGKILL))
    killer.start()
    try:
        result = run_load(f"http://127.0.0.1:{port}/v1/traces", spans_per_s, seconds, stop=stop)
    finally:
        killer.cancel()
        process.kill()
        process.wait()
    found = {t.trace_id for t in OtlpStoreSource(store, settle_s=0)}
    return len(result.acked_traces), len(set(result.acked_traces) & found)


def test_kill_9_mid_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    acked, found = kill_mid_load(tmp_path / "store", spans_per_s=2000, seconds=4, kill_after_s=2)
    assert acked > 100  # the load did run before the kill
    assert found == acked


@pytest.mark.soak
def test_soak_2000_spans_per_second_for_60_s_nothing_lost_then_kill_9(tmp_path: Path) -> None:
    port = _free_port()
    store = tmp_path / "store"
    process = _start_collect(store, port)
    try:
        result = run_load(f"http://127.0.0.1:{port}/v1/traces", 2000, 60)
        stats = httpx.get(f"http://127.0.0.1:{port}/stats").json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert result.acked_spans >= 2000 * 60 * 0.95 and result.failed == 0
    found = {t.trace_id for t in OtlpStoreSource(store, settle_s=0)}
    assert set(result.acked_traces) <= found and stats["spans"] == result.acked_spans
    acked, kept = kill_mid_load(tmp_path / "store2", spans_per_s=2000, seconds=20, kill_after_s=10)
    assert kept == acked


def test_a_segment_left_open_by_a_crash_is_closed_and_its_torn_last_line_skipped(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    whole = request_body(["44" * 16], time.time_ns())
    torn = request_body(["55" * 16], time.time_ns())[
        :100
    ]  # written when the process died: never acknowledged
    (store / f"open-{time.time_ns():020d}.jsonl").write_bytes(whole + b"\n" + torn)
    SegmentStore(store)  # what the receiver does on start
    assert [p.name.startswith("seg-") for p in store.iterdir()] == [True]
    source = OtlpStoreSource(store)
    assert [t.trace_id for t in source] == ["44" * 16]
    assert source.bad.count == 1 and "not valid JSON" in source.bad.problems[0]
