"""A fake agent for benchmarks: fixed latency, deterministic reply and tool calls, trailcheck's protocol.

Run it in its own process so its CPU is not counted as the pipeline's:
``python -m bench.fake_agent --port 8765 --latency-ms 50``.

It is a bare asyncio protocol speaking just enough HTTP/1.1 (keep-alive, Content-Length bodies)
rather than a web framework: on a 2-core machine whatever CPU the fake spends is taken from the
pipeline it is there to measure. A reply is a timer callback, not a coroutine or a task.
`create_app` serves the same answers as an ASGI app, for tests that run it in a thread.

With ``--error-rate`` a deterministic share of orders fail (`injected_error`), for load tests
that must account for every case.
"""

import argparse
import asyncio
import contextlib
import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_HEAD_END = b"\r\n\r\n"


def injected_error(order: str, error_rate: float) -> str | None:
    """The fault injected for this order, deterministic so a test knows which cases error.

    Orders are ``A<number>``; with error rate r, every 1/r-th number errors, alternating an HTTP
    500 and a body that is not JSON. None: answer normally.
    """
    if error_rate <= 0:
        return None
    period = round(1 / error_rate)
    number = int(order[1:]) if order[1:].isdigit() else 0
    if number % period != period // 2:
        return None
    return "http-500" if (number // period) % 2 == 0 else "not-json"


def _order(request_body: bytes) -> str:
    return str(json.loads(request_body)["message"]).rsplit(" ", 1)[-1]


def reply_body(request_body: bytes) -> bytes:
    """The agent's answer to one trailcheck protocol request: one lookup_order call, then the answer."""
    order = _order(request_body)
    reply = {
        "reply": f"Order {order} is shipped.",
        "tool_calls": [
            {
                "name": "lookup_order",
                "args": {"order_id": order},
                "result": {"status": "shipped"},
                "status_code": 200,
                "latency_s": 0.001,
            }
        ],
        "usage": {"input_tokens": 120, "output_tokens": 12},
        "cost_usd": 0.0004,
    }
    return json.dumps(reply).encode()


def _response(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _faulted(fault: str) -> bytes:
    if fault == "http-500":
        return _response("500 Internal Server Error", b"injected failure", "text/plain")
    return _response("200 OK", b"<html>injected</html>", "text/html")


class FakeAgentProtocol(asyncio.Protocol):
    """One connection: parses requests as they arrive and answers each `latency_s` later, in order."""

    def __init__(self, latency_s: float, error_rate: float = 0.0) -> None:
        self.latency_s = latency_s
        self.error_rate = error_rate
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(_HEAD_END)
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            start = end + len(_HEAD_END)
            if len(self.buffer) < start + length:
                return
            body, self.buffer = self.buffer[start : start + length], self.buffer[start + length :]
            self.answer(head.split(" ", 1)[0], body)

    def answer(self, method: str, body: bytes) -> None:
        if method != "POST":
            response = _response("405 Method Not Allowed", b'{"detail": "POST /chat"}')
            asyncio.get_running_loop().call_soon(self.send, response)
            return
        try:
            fault = injected_error(_order(body), self.error_rate)
            response = _faulted(fault) if fault else _response("200 OK", reply_body(body))
        except (ValueError, KeyError, AttributeError, TypeError):
            response = _response("400 Bad Request", b'{"detail": "expected {\\"message\\": ...}"}')
        asyncio.get_running_loop().call_later(self.latency_s, self.send, response)

    def send(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def create_app(latency_s: float, error_rate: float = 0.0) -> Starlette:
    """The same agent as an ASGI app (POST /chat), for tests that serve it in a thread."""

    async def chat(request: Request) -> Response:
        body = await request.body()
        await asyncio.sleep(latency_s)
        fault = injected_error(_order(body), error_rate)
        if fault == "http-500":
            return Response("injected failure", status_code=500)
        if fault == "not-json":
            return Response("<html>injected</html>", media_type="text/html")
        return Response(reply_body(body), media_type="application/json")

    return Starlette(routes=[Route("/chat", chat, methods=["POST"])])


async def serve(port: int, latency_s: float, error_rate: float = 0.0) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: FakeAgentProtocol(latency_s, error_rate), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--error-rate", type=float, default=0.0, help="Share of orders that fail, e.g. 0.01.")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.latency_ms / 1000, args.error_rate))


if __name__ == "__main__":
    main()
