"""The OTLP receiver under load (`make bench-collect`, `python -m bench.collect`).

Starts `trailcheck collect` as its own process, sends GenAI agent traces at 2,000 spans/s for
60 s from bench/otlp_load.py, samples the receiver's resident memory every second, then checks
that every acknowledged trace is in the store. A second run kills the receiver with SIGKILL half
way through and checks the same. Writes a Markdown table under bench/results/.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.otlp_load import run_load
from trailcheck.loading.sources.otlp_store import OtlpStoreSource


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _start(store: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "trailcheck.cli", "collect", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("trailcheck collect did not start")


def run(store: Path, rate: float, seconds: float, kill_after: float | None) -> dict[str, float]:
    """One load run; memory samples and what was found of what was acknowledged."""
    port = _port()
    process = _start(store, port)
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(1.0):
            try:
                samples.append(_rss_mb(process.pid))
            except (FileNotFoundError, ProcessLookupError):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    killer = threading.Timer(kill_after, lambda: os.kill(process.pid, signal.SIGKILL)) if kill_after else None
    if killer:
        killer.start()
    result = run_load(f"http://127.0.0.1:{port}/v1/traces", rate, seconds)
    done.set()
    if killer:
        killer.cancel()
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    read_wall = time.perf_counter()
    found = {t.trace_id for t in OtlpStoreSource(store, settle_s=0)}
    read_s = time.perf_counter() - read_wall
    acked = set(result.acked_traces)
    return {
        "acked_spans": result.acked_spans,
        "spans_per_s": result.acked_spans / result.seconds,
        "lost": len(acked - found),
        "throttled": result.throttled,
        "failed": result.failed,
        "rss_first_mb": samples[0] if samples else 0.0,
        "rss_max_mb": max(samples) if samples else 0.0,
        "rss_last_mb": samples[-1] if samples else 0.0,
        "read_s": read_s,
    }


def main() -> None:
    """Run the sustained load and the kill -9 run; print and save the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        steady = run(Path(tmp) / "steady", args.rate, args.seconds, None)
        killed = run(Path(tmp) / "killed", args.rate, args.seconds / 2, args.seconds / 4)
    lines = [
        f"# trailcheck collect at {args.rate:,.0f} spans/s for {args.seconds:g} s ({os.cpu_count()} cores)",
        "",
        "| run | acked spans | acked spans/s | lost of acked | 429s | failed | RSS first/max/last MB "
        "| read s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, r in (("steady", steady), ("kill -9 mid-load", killed)):
        lines.append(
            f"| {name} | {r['acked_spans']:,.0f} | {r['spans_per_s']:,.0f} | {r['lost']:.0f} "
            f"| {r['throttled']:.0f} "
            f"| {r['failed']:.0f} | {r['rss_first_mb']:.0f}/{r['rss_max_mb']:.0f}/{r['rss_last_mb']:.0f} "
            f"| {r['read_s']:.1f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    (Path(__file__).parent / "results" / f"collect-{time.strftime('%Y-%m-%d-%H%M')}.md").write_text(text)
    if steady["lost"] or killed["lost"]:
        raise SystemExit("acknowledged traces were lost")


if __name__ == "__main__":
    main()
