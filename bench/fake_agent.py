"""A fake agent for benchmarks: fixed latency, deterministic reply and tool calls, trailcheck's protocol.

Run it in its own process so its CPU is not counted as the pipeline's:
``python -m bench.fake_agent --port 8765 --latency-ms 50``.
"""

import argparse
import asyncio
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def create_app(latency_s: float) -> Starlette:
    """One route, POST /chat: sleeps `latency_s`, then answers with one reported tool call."""

    async def chat(request: Request) -> Response:
        body = json.loads(await request.body())
        await asyncio.sleep(latency_s)
        order = body["message"].rsplit(" ", 1)[-1]
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
        return Response(json.dumps(reply), media_type="application/json")

    return Starlette(routes=[Route("/chat", chat, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.latency_ms / 1000),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
