"""The tool gateway's overhead per forwarded call: the same tool calls direct and through the gateway.

    python -m bench.gateway [--calls 2000] [--concurrency 16]

The reference tools and the gateway each run in a process of their own (as uvicorn servers on
127.0.0.1); this process is the client. Sequential calls measure latency per call (blocks of
direct and gateway calls interleave, so noise hits both alike); concurrent calls measure
throughput. The gateway records every call in an open conversation, as during a replay. Writes a
Markdown table to bench/results/.
"""

import argparse
import asyncio
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

RESULTS = Path(__file__).resolve().parent / "results"
SESSION = "bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(role: str, port: int, upstream: str = "") -> None:
    """Child process: serve the tools or a gateway until killed."""
    import uvicorn

    if role == "tools":
        from trailcheck.agents.reference.tools_app import create_tools_app

        app = create_tools_app()
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        from trailcheck.agents.gateway.app import Gateway
        from trailcheck.agents.reference.routes import REFERENCE_ROUTES

        uvicorn.run(
            Gateway(upstream, REFERENCE_ROUTES),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )


@contextmanager
def _process(*args: str) -> Iterator[None]:
    child = subprocess.Popen([sys.executable, "-m", "bench.gateway", *args])
    try:
        yield
    finally:
        child.terminate()
        child.wait(timeout=10)


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _sequential(tools: str, gateway: str, calls: int, block: int = 100) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"direct": [], "gateway": []}
    headers = {"X-Session-Id": SESSION}
    with httpx.Client(base_url=tools) as direct, httpx.Client(base_url=gateway) as proxied:
        for client in (direct, proxied):  # warm up connections and code paths
            for _ in range(50):
                client.get("/orders/A1001", headers=headers)
        for _ in range(calls // block):
            for name, client in (("direct", direct), ("gateway", proxied)):
                for _ in range(block):
                    started = time.perf_counter()
                    client.get("/orders/A1001", headers=headers).raise_for_status()
                    times[name].append(time.perf_counter() - started)
    return times


async def _throughput(base: str, calls: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits) as client:
        left = calls

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                (await client.get("/orders/A1001", headers={"X-Session-Id": SESSION})).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return calls / (time.perf_counter() - started)


def _ms(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if q < 100 else max(values) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]), *(args.serve[2:]))
        return
    tools_port, gateway_port = _free_port(), _free_port()
    tools, gateway = f"http://127.0.0.1:{tools_port}", f"http://127.0.0.1:{gateway_port}"
    with (
        _process("--serve", "tools", str(tools_port)),
        _process("--serve", "gateway", str(gateway_port), tools),
    ):
        _wait_up(f"{tools}/orders/A1001")
        _wait_up(f"{gateway}/_trailcheck/health")
        httpx.put(f"{gateway}/_trailcheck/sessions/{SESSION}", json={"key": "bench#0"}).raise_for_status()
        times = _sequential(tools, gateway, args.calls)
        rates = {
            name: asyncio.run(_throughput(base, args.calls, args.concurrency))
            for name, base in (("direct", tools), ("gateway", gateway))
        }
        recorded = httpx.get(f"{gateway}/_trailcheck/health").json()["forwarded"]
    rows = [
        f"| {name} | {_ms(t, 50):.2f} | {_ms(t, 95):.2f} | {statistics.mean(t) * 1000:.2f} "
        f"| {rates[name]:.0f} |"
        for name, t in times.items()
    ]
    overhead = _ms(times["gateway"], 50) - _ms(times["direct"], 50)
    table = "\n".join(
        [
            f"# Tool gateway overhead ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
            "",
            f"{platform.processor() or platform.machine()}, {platform.python_version()}; "
            f"{args.calls} sequential calls each way (interleaved blocks of 100), then {args.calls} calls "
            f"at concurrency {args.concurrency}; `GET /orders/A1001` on the reference tools; "
            f"{recorded} calls forwarded and recorded by the gateway.",
            "",
            "| path | median ms | p95 ms | mean ms | calls/s at concurrency |",
            "|---|---|---|---|---|",
            *rows,
            "",
            f"Overhead per forwarded call (median): {overhead:.2f} ms; "
            f"throughput through the gateway: {rates['gateway'] / rates['direct']:.0%} of direct.",
        ]
    )
    print(table)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"gateway-{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    out.write_text(table + "\n")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
