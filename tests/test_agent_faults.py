"""Agents that misbehave at the HTTP level, served from raw asyncio sockets (no HTTP library answers).

Every fault ends as an errored (or timed-out) trial with its reason; a body is never read past the
cap; transport errors (and only they) are retried, within a bound; the run completes and tells the
agent's failures from the infrastructure's. The servers speak raw bytes, so these tests hold
whatever HTTP client the adapters use.
"""

import asyncio
import gzip
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults import RawHttpServer, TcpRelay, closed_port
from tests.regression_runs import regression
from trailcheck.agents.config import HttpAgentConfig
from trailcheck.agents.factory import build_adapter
from trailcheck.models import Case, CaseStatus, ErrorKind, FailureOrigin, Trajectory, TrajectoryStatus

MB = 1024 * 1024
Reader, Writer = asyncio.StreamReader, asyncio.StreamWriter


def _head(status: str = "200 OK", **headers: str) -> bytes:
    lines = [
        f"HTTP/1.1 {status}",
        "Content-Type: application/json",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def ok(_r: Reader, w: Writer, body: dict[str, Any]) -> None:
    payload = json.dumps({"reply": f"ok: {body.get('message')}"}).encode()
    w.write(_head(**{"Content-Length": str(len(payload))}) + payload)
    await w.drain()


async def fifty_mb_declared(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head(**{"Content-Length": str(50 * MB)}))
    for _ in range(50 * 16):
        w.write(b" " * 65536)
        await w.drain()


async def fifty_mb_chunked(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head(**{"Transfer-Encoding": "chunked"}))
    for _ in range(50 * 16):
        w.write(b"10000\r\n" + b" " * 65536 + b"\r\n")
        await w.drain()
    w.write(b"0\r\n\r\n")


async def never_ends(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head())  # no length: the body lasts until the connection closes, which it never does
    while True:
        w.write(b'{"reply": "' + b"a" * 65536)
        await w.drain()


async def trickles_forever(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head(**{"Transfer-Encoding": "chunked"}))
    while True:
        w.write(b"1\r\n \r\n")
        await w.drain()
        await asyncio.sleep(0.05)


GZIP_BOMB = gzip.compress(b" " * (50 * MB), compresslevel=9)  # ~50 KB on the wire


async def gzip_bomb(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head(**{"Content-Encoding": "gzip", "Content-Length": str(len(GZIP_BOMB))}) + GZIP_BOMB)
    await w.drain()


async def endless_headers(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(b"HTTP/1.1 200 OK\r\n")
    while True:
        w.write(b"X-Filler: " + b"x" * 1000 + b"\r\n")
        await w.drain()


async def not_http(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
    await w.drain()


async def hangs_up(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head(**{"Content-Length": "1000"}) + b'{"reply": "cut')
    await w.drain()


async def silent(_r: Reader, _w: Writer, _b: dict[str, Any]) -> None:
    await asyncio.sleep(3600)


async def server_error(_r: Reader, w: Writer, _b: dict[str, Any]) -> None:
    w.write(_head("503 Service Unavailable", **{"Content-Length": "4"}) + b"busy")
    await w.drain()


BEHAVIOURS = {
    "ok": ok,
    "fifty-mb-declared": fifty_mb_declared,
    "fifty-mb-chunked": fifty_mb_chunked,
    "never-ends": never_ends,
    "trickles-forever": trickles_forever,
    "gzip-bomb": gzip_bomb,
    "endless-headers": endless_headers,
    "not-http": not_http,
    "hangs-up": hangs_up,
    "silent": silent,
    "503": server_error,
}


@pytest.fixture(scope="module")
def server() -> Iterator[RawHttpServer]:
    with RawHttpServer(BEHAVIOURS, default="ok") as s:
        yield s


def trial(config: HttpAgentConfig, message: str, case_id: str = "c") -> Trajectory:
    async def go() -> Trajectory:
        adapter = build_adapter(config)
        try:
            return await adapter.run(Case(id=case_id, turns=[message]), 0)
        finally:
            await adapter.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("behaviour", "status", "kind", "fragment"),
    [
        (
            "fifty-mb-declared",
            TrajectoryStatus.ERRORED,
            ErrorKind.REPLY,
            "declared 52,428,800 bytes, over the",
        ),
        ("fifty-mb-chunked", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "more than 10,485,760 bytes"),
        ("never-ends", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "more than 10,485,760 bytes"),
        ("gzip-bomb", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "more than 10,485,760 bytes"),
        # The trial's clock or the HTTP client's fires first: either wording, "|" between them.
        ("trickles-forever", TrajectoryStatus.TIMEOUT, ErrorKind.TIMEOUT, "within 1s|timed out after 1s"),
        ("silent", TrajectoryStatus.TIMEOUT, ErrorKind.TIMEOUT, "within 1s|timed out after 1s"),
        ("endless-headers", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "broke the HTTP protocol"),
        ("not-http", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "broke the HTTP protocol"),
        ("hangs-up", TrajectoryStatus.ERRORED, ErrorKind.REPLY, "broke the HTTP protocol"),
        ("503", TrajectoryStatus.ERRORED, ErrorKind.STATUS, "answered HTTP 503: busy"),
    ],
)
def test_each_fault_is_an_errored_trial_with_its_reason(
    server: RawHttpServer, behaviour: str, status: TrajectoryStatus, kind: ErrorKind, fragment: str
) -> None:
    # Default body cap (10 MB); a short timeout so the endless ones end.
    t = trial(HttpAgentConfig(url=server.url, timeout_s=1.0, retries=3), behaviour)
    assert (t.status, t.error_kind) == (status, kind), t.error
    assert any(f in (t.error or "") for f in fragment.split("|")), t.error
    assert t.attempts == 1  # an answer, even a broken one, is never retried
    assert len(t.error or "") < 600


def test_the_body_cap_is_configurable(server: RawHttpServer) -> None:
    small = trial(HttpAgentConfig(url=server.url, max_response_bytes=10), "ok")
    assert small.status is TrajectoryStatus.ERRORED and "over the 10-byte limit" in (small.error or "")
    assert trial(HttpAgentConfig(url=server.url, max_response_bytes=100), "ok").final_answer == "ok: ok"


def test_transport_errors_are_retried_within_the_bound() -> None:
    down = f"http://127.0.0.1:{closed_port()}/chat"
    t = trial(HttpAgentConfig(url=down, retries=2), "ok")
    assert (t.status, t.error_kind, t.attempts) == (TrajectoryStatus.ERRORED, ErrorKind.TRANSPORT, 3)
    assert "cannot reach agent" in (t.error or "")
    once = trial(HttpAgentConfig(url=down), "ok")
    assert once.attempts == 1


def test_a_retry_reaches_an_agent_that_came_back(server: RawHttpServer) -> None:
    with TcpRelay(server.port) as relay:
        relay.cut()
        threading.Timer(0.3, relay.restore).start()
        url = f"http://127.0.0.1:{relay.port}/chat"
        t = trial(HttpAgentConfig(url=url, retries=8), "ok")
    assert t.status is TrajectoryStatus.OK and t.final_answer == "ok: ok"
    assert t.attempts > 1


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_against_a_misbehaving_agent_completes_and_splits_failures(
    server: RawHttpServer, tmp_path: Path
) -> None:
    names = ["ok", "fifty-mb-chunked", "never-ends", "gzip-bomb", "silent", "not-http", "503"]
    cases = "".join(f"  - id: '{name}'\n    turns: ['{name}']\n    timeout_s: 1\n" for name in names)
    suite = tmp_path / "faulty.yaml"
    suite.write_text(f"name: faulty\nversion: '1'\ncases:\n{cases}")
    database = f"sqlite:///{tmp_path / 'r.db'}"
    agent = tmp_path / "agent.yaml"
    agent.write_text(f"kind: http\nurl: {server.url}\nretries: 2\n")
    seen = len(server.requests)
    run = regression(suite=str(suite), agent=str(agent), database_url=database)
    by_id = {c.case_id: c for c in run.cases}
    assert by_id["ok"].status is CaseStatus.PASSED
    assert {c.status for c in run.cases if c.case_id != "ok"} == {CaseStatus.ERRORED}
    assert run.pass_at_1 == pytest.approx(1 / 7) and not run.ok  # errored is never passed
    assert run.failures_by_origin() == {FailureOrigin.AGENT: 6, FailureOrigin.INFRASTRUCTURE: 0}
    assert [m["message"] for m in server.requests[seen:]].count("503") == 1  # an answer: not retried

    down = regression(
        suite=str(suite), agent=f"http://127.0.0.1:{closed_port()}/chat", database_url=database, retries=1
    )
    assert down.failures_by_origin() == {FailureOrigin.AGENT: 0, FailureOrigin.INFRASTRUCTURE: 7}
    assert all(c.status is CaseStatus.ERRORED and c.infrastructure_failures == 1 for c in down.cases)
