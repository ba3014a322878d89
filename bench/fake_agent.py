"""A fake agent for benchmarks: fixed latency, deterministic reply and tool calls, trailcheck's protocol.

Run it in its own process so its CPU is not counted as the pipeline's:
``python -m bench.fake_agent --port 8765 --latency-ms 50``.

It is a bare asyncio protocol speaking just enough HTTP/1.1 (keep-alive, Content-Length bodies)
rather than a web framework: on a 2-core machine whatever CPU the fake spends is taken from the
pipeline it is there to measure. A reply is a timer callback, not a coroutine or a task.
"""

import argparse
import asyncio
import contextlib
import json

_HEAD_END = b"\r\n\r\n"


def reply_body(request_body: bytes) -> bytes:
    """The agent's answer to one trailcheck protocol request: one lookup_order call, then the answer."""
    order = json.loads(request_body)["message"].rsplit(" ", 1)[-1]
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


def _response(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


class FakeAgentProtocol(asyncio.Protocol):
    """One connection: parses requests as they arrive and answers each `latency_s` later, in order."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
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
            response = _response("200 OK", reply_body(body))
        except (ValueError, KeyError, AttributeError):
            response = _response("400 Bad Request", b'{"detail": "expected {\\"message\\": ...}"}')
        asyncio.get_running_loop().call_later(self.latency_s, self.send, response)

    def send(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def serve(port: int, latency_s: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: FakeAgentProtocol(latency_s), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.latency_ms / 1000))


if __name__ == "__main__":
    main()
