"""trailcheck's benchmark: replay overhead vs the physical limit, the naive design, scoring, DB writes.

    python -m bench.run [--latency-ms 50] [--quick]

Starts a real Prefect server and a fake agent (each a process of its own), replays generated
suites through the real `regression` flow at several concurrencies, the same cases through a
one-task-per-case flow, then measures check scoring and results-DB writes. Writes a Markdown
table to bench/results/. These are measurements side by side in one run on one machine; the
machines here are shared and noisy, so compare ratios within a table, not across tables.
"""

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.workload import write_suite
from trailcheck.db.scratch import scratch_schema

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
POSTGRES_URL = os.environ.get("TRAILCHECK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up in {timeout_s}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU seconds of every PostgreSQL server process on this machine (0 if none is visible)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if "(postgres)" in stat.read_text():
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError):
            continue  # the process ended meanwhile
    return total


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextmanager
def background(cmd: list[str], env: dict[str, str], health_url: str) -> Iterator[int]:
    """Run `cmd` until the block ends; yields its pid once `health_url` answers."""
    with tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until(health_url)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line
    )
    import prefect

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB; Python {platform.python_version()}, "
        f"prefect {prefect.__version__}, {platform.platform()}"
    )


# Shards of 1,000 cases, two at a time: on one machine shard threads share one GIL, and each
# shard is a Prefect task run (~25 ms of CPU: API calls, events, an SSL context for its client).
# Measured side by side on 10,000 cases at concurrency 32: 250 x 4 cost 0.69 ms of CPU a case,
# 1,000 x 2 0.55 ms, one shard of 5,000 0.50 ms but with the longest tail. The table shows both.
SHARD_SIZE, PARALLEL_SHARDS = 1_000, 2


def scenario(
    design: str,
    suite: Path,
    agent_url: str,
    concurrency: int,
    env: dict[str, str],
    tmp: Path,
    shards: tuple[int, int] = (SHARD_SIZE, PARALLEL_SHARDS),
) -> dict:
    db_url = f"sqlite:///{tmp / f'{design}-{suite.stem}-{concurrency}-{uuid.uuid4().hex[:6]}.db'}"
    args = [design, str(suite), agent_url, str(concurrency), db_url, str(shards[0]), str(shards[1])]
    out = subprocess.run(
        [sys.executable, "-m", "bench.scenario", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"scenario {design} {suite.name} c={concurrency} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def scoring_throughput(n: int = 10_000) -> float:
    """Trajectories scored per second by the deterministic checks of the benchmark suite."""
    from trailcheck.checks import checks_for_case, score_trajectory
    from trailcheck.models import AssistantMessage, Case, TokenUsage, ToolCall, Trajectory, UserMessage

    case = Case.model_validate(
        {
            "id": "c",
            "turns": ["Where is my order A00001"],
            "expectations": {
                "tool_calls": [{"name": "lookup_order", "args": {"order_id": {"regex": r"^A\d{5}$"}}}],
                "final_answer": {"contains": ["shipped"]},
                "never_call": ["issue_refund"],
                "budgets": {"max_tokens": 1000, "max_cost_usd": 0.01},
            },
        }
    )
    checks = checks_for_case(case)
    trajectories = [
        Trajectory(
            case_id="c",
            trial=i,
            steps=[
                UserMessage(content="Where is my order A00001"),
                ToolCall(name="lookup_order", args={"order_id": "A00001"}, result={"status": "shipped"}),
                AssistantMessage(content="Order A00001 is shipped."),
            ],
            tokens=TokenUsage(input=120, output=12),
            cost_usd=0.0004,
            final_answer="Order A00001 is shipped.",
        )
        for i in range(n)
    ]

    async def score_all() -> None:
        for t in trajectories:
            await score_trajectory(case, t, checks)

    started = time.perf_counter()
    asyncio.run(score_all())
    return n / (time.perf_counter() - started)


def db_write(url: str, n: int = 100_000, batch: int = 1_000) -> dict[str, float]:
    """Record `n` case results (each with trajectory and verdicts) in batches: wall and CPU seconds.

    `server_cpu_s` is the PostgreSQL server's CPU over the same time (all its processes, so
    other users of that server on this machine count too); SQLite works inside the client.
    """
    from trailcheck import db
    from trailcheck.models import CaseResult, RunResult, ToolCall, Trajectory, Verdict, VerdictStatus

    engine = db.get_engine(url)
    run = RunResult(
        run_id=uuid.uuid4().hex[:12],
        suite="bench",
        suite_version="1",
        agent_version="bench",
        trials=1,
        started_at=datetime.now(UTC),
    )
    db.start_run(engine, run)
    trajectory = Trajectory(
        case_id="x", steps=[ToolCall(name="lookup_order", args={"order_id": "A1"})], final_answer="ok"
    )
    verdicts = [Verdict(check="tool_calls", status=VerdictStatus.PASSED)]
    results = [
        CaseResult(
            case_id=f"case-{i:06d}",
            trial=0,
            trajectory=trajectory.model_copy(update={"case_id": f"case-{i:06d}"}),
            verdicts=verdicts,
        )
        for i in range(n)
    ]
    is_postgres = engine.dialect.name == "postgresql"
    server0 = postgres_cpu_seconds() if is_postgres else 0.0
    started, cpu0 = time.perf_counter(), time.process_time()
    for i in range(0, n, batch):
        db.record_case_results(engine, run.run_id, results[i : i + batch])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    server = postgres_cpu_seconds() - server0 if is_postgres else 0.0
    return {"wall_s": wall, "client_cpu_s": cpu, "server_cpu_s": server}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-case replay")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    tmp = Path(tempfile.mkdtemp(prefix="trailcheck-bench-"))
    server_port, agent_port = free_port(), free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_API_URL": f"http://127.0.0.1:{server_port}/api",
    }
    agent_url = f"http://127.0.0.1:{agent_port}/chat"
    rows: list[dict] = []
    server = [
        sys.executable,
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        str(server_port),
    ]
    fake = [
        sys.executable,
        "-m",
        "bench.fake_agent",
        "--port",
        str(agent_port),
        "--latency-ms",
        str(args.latency_ms),
    ]
    load_before = load_average()
    with (
        background(server, env, f"http://127.0.0.1:{server_port}/api/health") as server_pid,
        background(fake, env, f"http://127.0.0.1:{agent_port}/chat") as fake_pid,
    ):
        warm = write_suite(tmp / "warm.yaml", 1)
        # The least of three 1-case runs: a fixed cost measured under noise is best read at its floor.
        one_case = [scenario("trailcheck", warm, agent_url, 1, env, tmp)["wall_s"] for _ in range(3)]
        fixed_start = min(one_case) - latency
        tuned = (SHARD_SIZE, PARALLEL_SHARDS)
        plan = [("trailcheck", 1_000, c, tuned) for c in (1, 8, 32)]
        if not args.quick:
            plan += [("trailcheck", 10_000, 32, tuned), ("trailcheck", 10_000, 32, (250, 4))]
        # Last: a task per case leaves the Prefect server digesting events for a while after.
        plan.append(("naive", 1_000, 32, tuned))
        for design, n, concurrency, shards in plan:
            suite = write_suite(tmp / f"suite-{n}.yaml", n)
            print(f"running {design} {n} cases at concurrency {concurrency} ...", flush=True)
            settle(server_pid)
            fake0, server0, machine0 = cpu_seconds(fake_pid), cpu_seconds(server_pid), machine_cpu_seconds()
            measured = scenario(design, suite, agent_url, concurrency, env, tmp, shards)
            fake_s, server_s = cpu_seconds(fake_pid) - fake0, cpu_seconds(server_pid) - server0
            machine_s = machine_cpu_seconds() - machine0
            print(f"  {measured}", flush=True)
            # What the same process holds with the suite loaded and nothing replayed.
            baseline_mb = scenario("load-only", suite, agent_url, concurrency, env, tmp)["peak_rss_mb"]
            limit = n * latency / concurrency
            rows.append(
                {
                    "design": design,
                    "shards": "one task per case" if design == "naive" else f"{shards[0]:,} x {shards[1]}",
                    "cases": n,
                    "concurrency": concurrency,
                    "limit_s": limit,
                    **measured,
                    "overhead_ms": (measured["wall_s"] - fixed_start - limit) / n * 1000,
                    "ratio": (measured["wall_s"] - fixed_start) / limit,
                    "fake_cpu_s": fake_s,
                    "load_only_rss_mb": baseline_mb,
                    "server_cpu_s": server_s,
                    # Busy CPU of the whole machine, less this benchmark's three processes.
                    "foreign_cpu_s": max(0.0, machine_s - measured["process_cpu_s"] - fake_s - server_s),
                }
            )
    scored = scoring_throughput()
    writes = {"SQLite": db_write(f"sqlite:///{tmp / 'dbwrite.db'}")}
    with scratch_schema(POSTGRES_URL, prefix="bench") as pg_url:
        writes["PostgreSQL"] = db_write(pg_url)
    loads = (load_before, load_average())
    report = render(rows, fixed_start, scored, writes, args.latency_ms, loads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    path.write_text(report)
    print(report)
    print(f"written to {path}")


def settle(pid: int, quiet: float = 0.05, timeout_s: float = 120) -> None:
    """Wait until the process `pid` (the Prefect server) uses under `quiet` of a core: earlier runs'
    events are digested in the background, and that CPU would be taken from the next run."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1)
        if cpu_seconds(pid) - before < quiet:
            return


def machine_cpu_seconds() -> float:
    """Busy (not idle, not iowait) CPU seconds of the whole machine since boot, all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def render(
    rows: list[dict],
    fixed_start: float,
    scored: float,
    writes: dict[str, dict[str, float]],
    latency_ms: float,
    loads: tuple[str, str],
) -> str:
    cores = os.cpu_count() or 1
    foreign = sum(r["foreign_cpu_s"] for r in rows)
    walls = sum(r["wall_s"] for r in rows)
    lines = [
        f"# trailcheck benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}.",
        f"Load average (1, 5, 15 min) before: {loads[0]}; after: {loads[1]}. Other processes on this "
        f"machine used {foreign:.0f} CPU s during the {walls:.0f} s of replays (about "
        f"{foreign / walls:.1f} of {cores} cores): wall times are "
        f"{'measured under heavy foreign load' if foreign / walls > 0.5 else 'lightly disturbed'}; "
        "CPU per case is the steadier figure.",
        f"Fake agent latency {latency_ms:g} ms; real Prefect server; results DB SQLite. Fixed start "
        f"(flow run creation, suite load, first request) {fixed_start:.2f} s, the least of three "
        "1-case runs, subtracted below. CPU is per process: trailcheck's (the flow's process), the fake "
        "agent's and the Prefect server's, each in its own process.",
        "",
        "| design | shards (size x at once) | cases | concurrency | wall s | physical limit s "
        "| (wall - start) / limit "
        "| overhead per case ms | trailcheck CPU s | trailcheck CPU per case ms | fake agent CPU per case ms "
        "| Prefect server CPU s | other processes' CPU s | peak RSS MB "
        "| peak RSS MB, suite loaded and no replay | passed |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [
            r["design"], r["shards"], f"{r['cases']:,}", r["concurrency"], f"{r['wall_s']:.2f}",
            f"{r['limit_s']:.2f}",
            f"{r['ratio']:.2f}x", f"{r['overhead_ms']:.2f}", f"{r['cpu_s']:.2f}",
            f"{r['cpu_s'] / r['cases'] * 1000:.3f}", f"{r['fake_cpu_s'] / r['cases'] * 1000:.3f}",
            f"{r['server_cpu_s']:.1f}", f"{r['foreign_cpu_s']:.1f}", f"{r['peak_rss_mb']:.0f}",
            f"{r['load_only_rss_mb']:.0f}",
            f"{r['passed']:,}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    naive = next((r for r in rows if r["design"] == "naive"), None)
    ours = next(
        (r for r in rows if r["design"] == "trailcheck" and r["cases"] == 1_000 and r["concurrency"] == 32),
        None,
    )
    big = next((r for r in rows if r["design"] == "trailcheck" and r["cases"] == 10_000), None)
    lines.append("")
    if ours and big:
        # The slope between 1,000 and 10,000 cases: what one more case costs, start-up excluded.
        steady = (big["wall_s"] - ours["wall_s"] - (big["limit_s"] - ours["limit_s"])) / 9_000 * 1000
        lines.append(
            f"Steady state at concurrency 32 ({big['shards']}), from the slope between 1,000 and 10,000 "
            f"cases: {steady:.2f} ms of wall time per case over the physical limit, "
            f"{(big['cpu_s'] - ours['cpu_s']) / 9:.3f} ms of trailcheck CPU per case."
        )
    if naive and ours:
        lines.append(
            "One task per case (naive) vs sharded, 1,000 cases at concurrency 32: "
            f"{naive['wall_s']:.2f} s vs {ours['wall_s']:.2f} s wall "
            f"({naive['wall_s'] / ours['wall_s']:.1f}x), "
            f"{naive['cpu_s']:.1f} vs {ours['cpu_s']:.1f} CPU s ({naive['cpu_s'] / ours['cpu_s']:.1f}x)."
        )
    lines += [
        f"Scoring (deterministic checks on stored trajectories): {scored:,.0f} trajectories/s.",
        "",
        "Results DB, 100,000 case results (each with its trajectory and a verdict) in batches of 1,000, "
        "one transaction each:",
        "",
        "| backend | wall s | client CPU s | server CPU s |",
        "|---|---|---|---|",
    ]
    for backend, w in writes.items():
        server = f"{w['server_cpu_s']:.2f}" if backend == "PostgreSQL" else "(in the client)"
        lines.append(f"| {backend} | {w['wall_s']:.2f} | {w['client_cpu_s']:.2f} | {server} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
