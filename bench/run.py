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


@contextmanager
def background(cmd: list[str], env: dict[str, str], health_url: str) -> Iterator[None]:
    with tempfile.NamedTemporaryFile(prefix="bench-", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_until(health_url)
            yield
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


def scenario(
    design: str, suite: Path, agent_url: str, concurrency: int, env: dict[str, str], tmp: Path
) -> dict:
    db_url = f"sqlite:///{tmp / f'{design}-{suite.stem}-{concurrency}-{uuid.uuid4().hex[:6]}.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "bench.scenario", design, str(suite), agent_url, str(concurrency), db_url],
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
    from checks import checks_for_case, score_trajectory
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


def db_write_seconds(url: str, n: int = 100_000, batch: int = 1_000) -> float:
    """Seconds to record `n` case results (each with trajectory and verdicts) in batches."""
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
    started = time.perf_counter()
    for i in range(0, n, batch):
        db.record_case_results(engine, run.run_id, results[i : i + batch])
    return time.perf_counter() - started


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
    with (
        background(server, env, f"http://127.0.0.1:{server_port}/api/health"),
        background(fake, env, f"http://127.0.0.1:{agent_port}/chat"),
    ):
        warm = write_suite(tmp / "warm.yaml", 1)
        start = scenario("trailcheck", warm, agent_url, 1, env, tmp)
        fixed_start = start["wall_s"] - latency
        plan = [("trailcheck", 1_000, c) for c in (1, 8, 32)] + [("naive", 1_000, 32)]
        if not args.quick:
            plan.append(("trailcheck", 10_000, 32))
        for design, n, concurrency in plan:
            suite = write_suite(tmp / f"suite-{n}.yaml", n)
            print(f"running {design} {n} cases at concurrency {concurrency} ...", flush=True)
            measured = scenario(design, suite, agent_url, concurrency, env, tmp)
            print(f"  {measured}", flush=True)
            limit = n * latency / concurrency
            rows.append(
                {
                    "design": design,
                    "cases": n,
                    "concurrency": concurrency,
                    "limit_s": limit,
                    **measured,
                    "overhead_ms": (measured["wall_s"] - fixed_start - limit) / n * 1000,
                    "ratio": (measured["wall_s"] - fixed_start) / limit,
                }
            )
    scored = scoring_throughput()
    sqlite_s = db_write_seconds(f"sqlite:///{tmp / 'dbwrite.db'}")
    with scratch_schema(POSTGRES_URL, prefix="bench") as pg_url:
        postgres_s = db_write_seconds(pg_url)
    report = render(rows, fixed_start, scored, sqlite_s, postgres_s, args.latency_ms)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    path.write_text(report)
    print(report)
    print(f"written to {path}")


def render(
    rows: list[dict], fixed_start: float, scored: float, sqlite_s: float, postgres_s: float, latency_ms: float
) -> str:
    lines = [
        f"# trailcheck benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {machine()}.",
        f"Fake agent latency {latency_ms:g} ms; real Prefect server; results DB SQLite. Fixed start "
        f"(flow run creation, suite load, first request) {fixed_start:.2f} s, measured with a 1-case run "
        "and subtracted below.",
        "",
        "| design | cases | concurrency | wall s | physical limit s | (wall - start) / limit "
        "| overhead per case ms | CPU s | peak RSS MB | passed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [
            r["design"], f"{r['cases']:,}", r["concurrency"], f"{r['wall_s']:.2f}", f"{r['limit_s']:.2f}",
            f"{r['ratio']:.2f}x", f"{r['overhead_ms']:.2f}", f"{r['cpu_s']:.1f}", f"{r['peak_rss_mb']:.0f}",
            f"{r['passed']:,}",
        ]  # fmt: skip
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    naive = next((r for r in rows if r["design"] == "naive"), None)
    ours = next(
        (r for r in rows if r["design"] == "trailcheck" and r["cases"] == 1_000 and r["concurrency"] == 32),
        None,
    )
    lines.append("")
    if naive and ours:
        lines.append(
            "One task per case (naive) vs sharded, 1,000 cases at concurrency 32: "
            f"{naive['wall_s']:.2f} s vs {ours['wall_s']:.2f} s wall "
            f"({naive['wall_s'] / ours['wall_s']:.1f}x), "
            f"{naive['cpu_s']:.1f} vs {ours['cpu_s']:.1f} CPU s ({naive['cpu_s'] / ours['cpu_s']:.1f}x)."
        )
    lines += [
        f"Scoring (deterministic checks on stored trajectories): {scored:,.0f} trajectories/s.",
        f"Results DB, 100,000 case results in batches of 1,000: SQLite {sqlite_s:.2f} s, "
        f"PostgreSQL {postgres_s:.2f} s.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
