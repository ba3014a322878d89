"""Parse + convert throughput of the trace readers (`make bench-traces`, `python -m bench.traces`).

One run, side by side: OTel GenAI spans from OTLP/JSON lines (as the OTLP file exporter writes
them) and from an OTLP protobuf file, and the same conversations as trailcheck JSON Lines. Each
figure is the whole `read_traces` pipeline plus `to_trajectory()` on every trace (what `score`
and live sampling do before the checks), from a file on disk. Spans come from bench/otlp_load.py
(4 spans a trace: a root, two chat spans with messages, a failing tool span). Rates use the
process's CPU time, so other work on the shared machine slows the run but barely the figure.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from bench.otlp_load import SPANS_PER_TRACE, request_body
from trailcheck.loading.traces import ReadTrace, read_traces

TARGET_SPANS_PER_S = 20_000


def _write_inputs(directory: Path, traces: int, per_line: int) -> dict[str, Path]:
    from google.protobuf.json_format import ParseDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    start = time.time_ns()
    ids = [f"{i:032x}" for i in range(traces)]
    otlp_json = directory / "spans.jsonl"
    with otlp_json.open("wb") as out:
        for k in range(0, traces, per_line):
            out.write(request_body(ids[k : k + per_line], start) + b"\n")
    # Protobuf's JSON mapping wants base64 ids; the OTLP/JSON file has hex ones.
    request = json.loads(request_body(ids, start))
    for span in request["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        for key in ("traceId", "spanId", "parentSpanId"):
            if span.get(key):
                import base64

                span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    otlp_pb = directory / "spans.pb"
    otlp_pb.write_bytes(ParseDict(request, ExportTraceServiceRequest()).SerializeToString())
    chat = directory / "traces.jsonl"
    with chat.open("w") as out:
        for item in read_traces(otlp_json):
            assert isinstance(item, ReadTrace)
            out.write(item.trace.model_dump_json(exclude_none=True) + "\n")
    return {"OTLP/JSON lines": otlp_json, "OTLP protobuf": otlp_pb, "trailcheck JSONL": chat}


def _measure(path: Path) -> tuple[int, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    count = 0
    for item in read_traces(path):
        assert isinstance(item, ReadTrace)
        item.to_trajectory()
        count += 1
    return count, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    """Measure, print a Markdown table, write it under bench/results/."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--per-line", type=int, default=50, help="traces per export request (line)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the best is kept")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        inputs = _write_inputs(Path(tmp), args.traces, args.per_line)
        for name, path in inputs.items():
            best = min((_measure(path) for _ in range(args.repeat)), key=lambda r: r[1])
            count, cpu, wall = best
            spans = count * SPANS_PER_TRACE
            rows.append((name, path.stat().st_size, count, spans / cpu, count / cpu, spans / wall))
    lines = [
        f"# Trace readers: parse + convert ({platform.python_version()}, {os.cpu_count()} cores, "
        f"{args.traces} traces = {args.traces * SPANS_PER_TRACE} spans)",
        "",
        "| input | file bytes | traces | spans/s (CPU) | traces/s (CPU) | spans/s (wall) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, size, count, spans_cpu, traces_cpu, spans_wall in rows:
        lines.append(
            f"| {name} | {size:,} | {count:,} | {spans_cpu:,.0f} | {traces_cpu:,.0f} | {spans_wall:,.0f} |"
        )
    otlp = rows[0][3]
    verdict = "meets" if otlp >= TARGET_SPANS_PER_S else "MISSES"
    lines += ["", f"OTLP/JSON: {otlp:,.0f} spans/s, {verdict} the {TARGET_SPANS_PER_S:,} spans/s target."]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / f"traces-{time.strftime('%Y-%m-%d-%H%M')}.md"
    out.write_text(text)


if __name__ == "__main__":
    main()
