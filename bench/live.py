"""Live sampling benchmark: read and sample 1,000,000 traces from JSONL, score 100,000 sampled traces.

    python -m bench.live [--traces 1000000] [--score 100000] [--workdir DIR]

1. Writes the reference trace stream (agents/reference/tracegen.py: real reference-agent conversations,
   mixed task types, ~1 KB a line) to a JSONL file (not timed).
2. Reads and samples it in a fresh process with the live flow's own code
   (`trailcheck.tasks.live.sample_source`:
   parsing, the traffic health windows, the sampler at 1% with a minimum per task type and the
   always-include rules), and reports wall time and peak RSS (ru_maxrss) of that process.
3. Scores N traces of the stream with `trailcheck.checks.live_scoring.score_sample`, the flow's scoring: the
   registry's trace checks (silent_error, tool_call_failure, security, context_saturation,
   goal_alignment), the live checks (completion, cost outlier) and the judge (not configured: a
   skipped verdict per trace). Reports traces per second.

Writes a Markdown table with the load average to bench/results/. The machine is shared: run twice.
"""

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _generate(path: Path, traces: int) -> float:
    from trailcheck.agents.reference.tracegen import StreamConfig, write_stream

    per_hour = 2000
    started = time.perf_counter()
    config = StreamConfig(hours=max(1, traces // per_hour), traces_per_hour=per_hour, seed=1)
    write_stream(path, config)
    return time.perf_counter() - started


def _read_phase(path: str) -> None:
    """Run in a child process: print JSON with the time, counts and peak RSS."""
    from trailcheck.models.sampling import SamplingPolicy
    from trailcheck.tasks.live import sample_source

    started, cpu = time.perf_counter(), time.process_time()
    outcome = sample_source(path, SamplingPolicy(rate=0.01, seed=3, min_per_task_type=100), 3600)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "read": outcome.read,
                "sampled": len(outcome.sample),
                "windows": len(outcome.health.windows()),
                "by_reason": outcome.sampled_by_reason,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "peak_rss_mb": peak_mb,
            }
        )
    )


def _score_phase(path: Path, n: int) -> dict[str, float | int | list[str]]:
    from trailcheck.analysis.sampling import SampledTrace
    from trailcheck.checks.live_scoring import ScoringPolicy, score_sample
    from trailcheck.checks.registry import trace_checks
    from trailcheck.models import Trace
    from trailcheck.models.sampling import SampleReason

    with path.open("rb") as lines:
        sample = [
            SampledTrace.of(Trace.model_validate_json(line), 0.0, [SampleReason.RATE])
            for line in islice(lines, n)
        ]
    policy = ScoringPolicy(checks=trace_checks())
    started, cpu = time.perf_counter(), time.process_time()
    scored = score_sample(sample, policy)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "cpu_per_s": len(scored) / cpu,
        "scored": len(scored),
        "seconds": elapsed,
        "per_s": len(scored) / elapsed,
        "checks": sorted(policy.checks),
        "failed": sum(s.failed for s in scored),
    }


def _detection(seeds: int) -> dict[str, object]:
    """False alarms on stable streams (72 h each) and detection delay of a 1.35x cost drift."""
    from datetime import timedelta

    from trailcheck.agents.reference.tracegen import StreamConfig, trace_lines
    from trailcheck.analysis.health import HealthAccumulator
    from trailcheck.checks.anomaly import detect_anomalies
    from trailcheck.models import Trace

    def windows(config: StreamConfig) -> list:  # type: ignore[type-arg]
        health = HealthAccumulator(3600)
        for line in trace_lines(config):
            health.add_trace(Trace.model_validate_json(line))
        return health.windows()

    judged_windows, alarms = 0, 0
    for seed in range(seeds):
        found = detect_anomalies(windows(StreamConfig(hours=72, traces_per_hour=300, seed=100 + seed)))
        judged_windows += 4 * (72 - 8)  # 4 task types, judged after 8 windows of history
        alarms += len(found)
    delays: list[float | None] = []  # minutes; None: never flagged; negative: flagged before the drift
    for seed in range(seeds):
        drift_at = StreamConfig().start + timedelta(hours=30, minutes=(seed * 17) % 60)
        config = StreamConfig(hours=40, traces_per_hour=300, seed=200 + seed, cost_drift_at=drift_at)
        flagged = [a.window_start for a in detect_anomalies(windows(config)) if a.metric == "cost_mean"]
        # From the drift to the end of the first flagged window: when a run reading that window sees it.
        delays.append(
            round((min(flagged) + timedelta(hours=1) - drift_at).total_seconds() / 60) if flagged else None
        )
    return {"stable_windows": judged_windows, "false_alarms": alarms, "delays_min": delays}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--score", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=None, help="Keep the generated stream here.")
    parser.add_argument("--seeds", type=int, default=5, help="Streams for false alarms and detection delay.")
    parser.add_argument("--read-phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_phase:
        _read_phase(args.read_phase)
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="trailcheck-bench-live-"))
    workdir.mkdir(parents=True, exist_ok=True)
    stream = workdir / f"traces-{args.traces}.jsonl"
    generated = 0.0
    if not stream.exists():
        generated = _generate(stream, args.traces)
    size_mb = stream.stat().st_size / 1e6
    load_before = os.getloadavg()
    child = subprocess.run(
        [sys.executable, "-m", "bench.live", "--read-phase", str(stream)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    read = json.loads(child.stdout.strip().splitlines()[-1])
    score = _score_phase(stream, args.score)
    detection = _detection(args.seeds)
    delays = detection["delays_min"]
    load_after = os.getloadavg()
    when = datetime.now(UTC)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    load = f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}"
    rate = read["read"] / read["seconds"]
    made = f"made in {generated:.0f} s" if generated else "reused"
    checks = ", ".join(score["checks"])  # type: ignore[arg-type]
    report = "\n".join(
        [
            f"# Live sampling benchmark {when:%Y-%m-%d %H:%M} UTC",
            "",
            f"Machine: {machine}, Python {platform.python_version()}; {load} (the cores are shared).",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| stream | {read['read']:,} traces, {size_mb:,.0f} MB JSONL ({made}) | |",
            f"| read + sample (1%, min 100 a type, rules) | {read['seconds']:.1f} s "
            f"({read['cpu_seconds']:.1f} s CPU), {rate:,.0f} traces/s; "
            f"sampled {read['sampled']:,} ({read['by_reason']}) | |",
            f"| peak RSS of the read+sample process | {read['peak_rss_mb']:.0f} MB | < 300 MB |",
            f"| score {score['scored']:,} traces (checks: {checks} + completed, cost_outlier, judge skipped) "
            f"| {score['seconds']:.2f} s, **{score['per_s']:,.0f} traces/s** "
            f"({score['cpu_per_s']:,.0f} per CPU second) | >= 10,000/s |",
            f"| false alarms, {args.seeds} stable 72 h streams (4 task types, hourly, cost + 4 rates) "
            f"| {detection['false_alarms']} in {detection['stable_windows']} judged windows | 0 |",
            f"| delay to flag a 1.35x cost drift ({args.seeds} streams; minutes from the drift to the end "
            f"of the first flagged window) | {delays} | within its window (< 60) |",
            "",
        ]
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"live-{when:%Y-%m-%d-%H%M}.md"
    out.write_text(report)
    print(report)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
