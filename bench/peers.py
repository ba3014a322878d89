"""trailcheck beside its peers: the same cases, the same fake agent, one table.

``make bench-peers`` installs inspect-ai and DeepEval from PyPI into their own venvs and promptfoo from
npm (when node is there) under bench/.peers/ (git-ignored, outside the package), starts the fake agent
(bench/fake_agent.py, 50 ms a reply) in its own process, and runs every tool on N single-turn cases
with two assertions each (a lookup_order call with a well-formed order id, "shipped" in the answer) at
concurrency 32, for N in 100, 1,000 and 10,000, interleaved (every tool at one N, then the next N),
two rounds. Per tool it reports wall time, CPU (user + system; for trailcheck with what its Prefect
server spent during the run) and peak RSS per N, and a least-squares
line wall = fixed start + slope x N. trailcheck runs against its warm local Prefect server, its
commands served by its warm runner (one cold run first, reported on its own line, then a wait until
the runner serves, as for a user's next command); it is also timed on the bundled suite twice in a row.

``python -m bench.peers [--sizes 100,1000,10000] [--rounds 2] [--peer-cap 10000] [--tools ...]``
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bench.workload import write_suite
from trailcheck.cli import runner_control
from trailcheck.cli.launcher import STATS_ENV

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PEERS = BENCH / ".peers"
RESULTS = BENCH / "results"
TRAILCHECK = str(ROOT / ".venv" / "bin" / "trailcheck")
CONCURRENCY = 32
LATENCY_MS = 50
RUN_TIMEOUT_S = 1800
PEER_PACKAGES = {
    "inspect": ["inspect-ai>=0.3.285", "httpx>=0.28"],
    "deepeval": ["deepeval>=4.3", "httpx>=0.28"],
}
# 0.118 is the last line that runs on Node 20 (0.123 wants 22); Debian's node ships its headers.
PROMPTFOO = "promptfoo@0.118.17"
NODE_DIR = "/usr"
QUIET_ENV = {
    "DEEPEVAL_TELEMETRY_OPT_OUT": "YES",
    "DEEPEVAL_UPDATE_WARNING_OPT_IN": "NO",
    "PROMPTFOO_DISABLE_TELEMETRY": "1",
    "PROMPTFOO_DISABLE_UPDATE": "1",
    "INSPECT_DISPLAY": "none",
    "OPENAI_API_KEY": "unused-by-the-bench",
}


@dataclass
class Timing:
    tool: str
    n: int
    round: int
    wall_s: float
    cpu_s: float
    rss_mb: float
    passed: int


def _python() -> str:
    return shutil.which("python3.11") or sys.executable


def install() -> list[str]:
    """Create the peers' venvs / npm folder if missing; the tools that are ready."""
    ready = []
    for name, packages in PEER_PACKAGES.items():
        venv = PEERS / name
        stamp = venv / ".installed"
        if not stamp.exists():
            subprocess.run([_python(), "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
            subprocess.run([*pip, "--disable-pip-version-check", *packages], check=True)
            stamp.touch()
        ready.append(name)
    if shutil.which("node") and shutil.which("npm"):
        folder = PEERS / "promptfoo"
        if not (folder / "node_modules" / ".bin" / "promptfoo").exists():
            folder.mkdir(parents=True, exist_ok=True)
            subprocess.run(["npm", "init", "-y"], cwd=folder, check=True, capture_output=True)
            # No install scripts: they download a browser build (playwright), which cannot be fetched
            # here; the one native module promptfoo needs is built from source against node's headers.
            npm_env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", PROMPTFOO],
                           cwd=folder, check=True, env=npm_env)  # fmt: skip
            rebuild = ["npm", "rebuild", "better-sqlite3", "--build-from-source", f"--nodedir={NODE_DIR}"]
            subprocess.run(rebuild, cwd=folder, check=True, env=npm_env)
        ready.append("promptfoo")
    return ready


def _versions(tools: list[str]) -> dict[str, str]:
    found = {}
    for name, dist in (("inspect", "inspect-ai"), ("deepeval", "deepeval")):
        if name in tools:
            code = f"from importlib.metadata import version; print(version({dist!r}))"
            probe = [str(PEERS / name / "bin" / "python"), "-c", code]
            found[name] = subprocess.run(probe, capture_output=True, text=True).stdout.strip()
    if "promptfoo" in tools:
        found["promptfoo"] = PROMPTFOO.split("@")[1]
    from importlib.metadata import version

    found["trailcheck"] = version("trailcheck")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, str]:
    """Run `command` under GNU time: wall, user + system CPU of the whole tree, peak RSS (MB), stdout.

    A trailcheck command served by its warm runner runs in a fork of the runner, outside the tree
    `time` sees: the launcher records that process's CPU and peak RSS (TRAILCHECK_RUNNER_STATS), and
    they are counted here as if the launcher had used them.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as stats, \
            tempfile.NamedTemporaryFile("r", suffix=".runner") as served:  # fmt: skip
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%e %U %S %M", "-o", stats.name, *command],
            env=env | {STATS_ENV: served.name}, cwd=cwd, capture_output=True, text=True,
            timeout=RUN_TIMEOUT_S,
        )  # fmt: skip
        wall, user, system, rss_kb = stats.read().split()[-4:]
        runner = [json.loads(line) for line in served.read().splitlines()]
    if result.returncode not in (0, 1):
        raise RuntimeError(f"{command[0]} exited {result.returncode}: {result.stderr[-2000:]}")
    cpu = float(user) + float(system) + sum(r["cpu_s"] for r in runner)
    rss = max([int(rss_kb) / 1024, *(r["max_rss_mb"] for r in runner)])
    return float(wall), cpu, rss, result.stdout


def _wait_for_runner(home: Path, timeout_s: float = 120) -> None:
    """After the cold run: wait until its warm runner serves, as it would by a user's next command."""
    deadline = time.monotonic() + timeout_s
    while runner_control.status(home) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no warm runner after {timeout_s:g} s: see {home / 'runner' / 'runner.log'}")
        time.sleep(0.2)


def _passed(tool: str, out: str, report: Path | None) -> int:
    if tool.startswith("trailcheck") and report is not None:
        return sum(case["passes"] for case in json.loads(report.read_text())["cases"])
    if tool == "promptfoo":
        for line in out.splitlines():
            if "Successes:" in line or "Passed:" in line:  # promptfoo's summary line
                digits = "".join(ch for ch in line.split(":", 1)[1].split("(")[0] if ch.isdigit())
                if digits:
                    return int(digits)
        return -1
    last = [line for line in out.splitlines() if line.startswith("passed ")]
    return int(last[-1].split()[1].split("/")[0]) if last else -1


def _server_cpu_s(home: Path) -> float:
    """CPU the warm Prefect server has used so far (its own and its reaped children's), 0 if none."""
    state = home / "prefect-server" / "state.json"
    try:
        pid = json.loads(state.read_text())["pid"]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, KeyError):
        return 0.0
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def run_tool(tool: str, n: int, url: str, work: Path, env: dict[str, str]) -> tuple[float, float, float, int]:
    """One run: wall, CPU (trailcheck's includes what its Prefect server spent meanwhile), RSS, passed."""
    report = None
    server_before = _server_cpu_s(Path(env["TRAILCHECK_HOME"])) if tool == "trailcheck" else 0.0
    if tool.startswith("trailcheck"):
        suite = write_suite(work / f"bench-{n}.yaml", n)
        report = work / f"report-{n}.json"
        command = [TRAILCHECK, "run", str(suite), "--agent", url, "--concurrency", str(CONCURRENCY),
                   "--report-json", str(report), "--no-redact"]  # fmt: skip
    elif tool in PEER_PACKAGES:
        command = [str(PEERS / tool / "bin" / "python"), str(BENCH / "peer_runners" / f"{tool}_run.py"),
                   str(n), url, str(CONCURRENCY)]  # fmt: skip
    else:
        config_dir = work / f"promptfoo-{n}"
        subprocess.run([sys.executable, str(BENCH / "peer_runners" / "promptfoo_config.py"), str(n), url,
                        str(config_dir)], check=True, capture_output=True)  # fmt: skip
        command = [str(PEERS / "promptfoo" / "node_modules" / ".bin" / "promptfoo"), "eval", "-c",
                   str(config_dir / "promptfooconfig.yaml"), "--max-concurrency", str(CONCURRENCY),
                   "--no-cache", "--no-write", "--no-table", "--no-progress-bar"]  # fmt: skip
    wall, cpu, rss, out = _timed(command, env, work)
    if tool == "trailcheck":
        cpu += _server_cpu_s(Path(env["TRAILCHECK_HOME"])) - server_before
    return wall, cpu, rss, _passed(tool, out, report)


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares wall = a + b n: (fixed start in s, slope in ms a case)."""
    if len({n for n, _ in points}) < 2:
        return float("nan"), float("nan")
    slope, intercept = statistics.linear_regression([n for n, _ in points], [w for _, w in points])
    return intercept, slope * 1000


def second_run_wall(env: dict[str, str]) -> list[float]:
    """`trailcheck run suites/support-desk.yaml --agent reference:v1` twice: both wall times."""
    walls = []
    for _ in range(2):
        wall, _cpu, _rss, _out = _timed(
            [TRAILCHECK, "run", str(ROOT / "suites" / "support-desk.yaml"), "--agent", "reference:v1"],
            env, ROOT,
        )  # fmt: skip
        walls.append(wall)
    return walls


def table(timings: list[Timing], cold: Timing | None, versions: dict[str, str], sizes: list[int]) -> str:
    tools = list(dict.fromkeys(t.tool for t in timings))
    head = ["tool", *(f"wall {n:,}" for n in sizes), "fixed start", "slope", *(f"CPU {n:,}" for n in sizes),
            "peak RSS", "passed"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in tools:
        mine = [t for t in timings if t.tool == tool]
        ran = [n for n in sizes if any(t.n == n for t in mine)]
        wall = {n: statistics.median(t.wall_s for t in mine if t.n == n) for n in ran}
        cpu = {n: statistics.median(t.cpu_s for t in mine if t.n == n) for n in ran}
        start, slope = _fit([(t.n, t.wall_s) for t in mine])
        ok = all(t.passed == t.n for t in mine)
        cells = [f"{tool} {versions.get(tool, '')}".strip(),
                 *(f"{wall[n]:.2f} s" if n in wall else "-" for n in sizes),
                 f"{start:.2f} s", f"{slope:.2f} ms/case",
                 *(f"{cpu[n]:.1f} s" if n in cpu else "-" for n in sizes),
                 f"{max(t.rss_mb for t in mine):.0f} MB", "all" if ok else "NOT ALL"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    if cold is not None:
        lines.append(f"\ntrailcheck cold (no warm server yet) at {cold.n:,} cases: {cold.wall_s:.2f} s wall, "
                     f"{cold.cpu_s:.1f} s CPU")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--peer-cap", type=int, default=10_000, help="Largest N the peers run (trailcheck runs all)."
    )
    parser.add_argument("--tools", default="", help="Comma-separated subset (default: every installed one).")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tools = ["trailcheck", *install()]
    if args.tools:
        tools = [t for t in tools if t in args.tools.split(",")]
    versions = _versions(tools)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/chat"
    agent = subprocess.Popen([sys.executable, "-m", "bench.fake_agent", "--port", str(port),
                              "--latency-ms", str(LATENCY_MS)], cwd=ROOT)  # fmt: skip
    home = PEERS / "trailcheck-home"
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "TRAILCHECK_DATABASE_URL")}
    env |= QUIET_ENV | {"TRAILCHECK_HOME": str(home), "COLUMNS": "120"}
    timings: list[Timing] = []
    cold = None
    try:
        _wait_listening(port)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            if "trailcheck" in tools:
                subprocess.run([TRAILCHECK, "server", "stop"], env=env, check=True)
                wall, cpu, rss, passed = run_tool("trailcheck", sizes[0], url, work, env)
                cold = Timing("trailcheck", sizes[0], 0, wall, cpu, rss, passed)
                _wait_for_runner(home)
            for round_ in range(1, args.rounds + 1):
                for n in sizes:
                    order = tools if round_ % 2 else list(reversed(tools))
                    for tool in order:
                        if tool != "trailcheck" and n > args.peer_cap:
                            continue
                        wall, cpu, rss, passed = run_tool(tool, n, url, work, env)
                        timings.append(Timing(tool, n, round_, wall, cpu, rss, passed))
                        print(f"round {round_} {tool:10} n={n:>6}: {wall:7.2f} s wall {cpu:6.1f} s CPU "
                              f"{rss:5.0f} MB  passed {passed}/{n}", flush=True)  # fmt: skip
            seconds = second_run_wall(env) if "trailcheck" in tools else []
    finally:
        agent.terminate()
        agent.wait(timeout=10)
    stamp = datetime.now().strftime("%Y-%m-%d-%H%M")
    load = os.getloadavg()
    text = [
        f"# trailcheck beside its peers ({stamp})",
        "",
        f"{os.cpu_count()} cores, load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; "
        f"fake agent {LATENCY_MS} ms a reply, concurrency {CONCURRENCY}, two assertions a case, "
        f"{args.rounds} round(s) interleaved, medians; peers capped at {args.peer_cap:,} cases.",
        "",
        table(timings, cold, versions, sizes),
    ]
    if seconds:
        text += ["", f"`trailcheck run suites/support-desk.yaml --agent reference:v1` twice in a row: "
                 f"{seconds[0]:.2f} s, then {seconds[1]:.2f} s (warm server)."]  # fmt: skip
    text += ["", "Raw timings:", "", "| tool | n | round | wall s | CPU s | RSS MB | passed |"]
    text += ["|---|---|---|---|---|---|---|"]
    text += [
        f"| {t.tool} | {t.n} | {t.round} | {t.wall_s:.2f} | {t.cpu_s:.2f} | {t.rss_mb:.0f} | {t.passed} |"
        for t in timings
    ]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"peers-{stamp}.md"
    path.write_text("\n".join(text) + "\n")
    print("\n".join(text))
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
