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


def create_app(latency_s: float, error_rate: float = 0.0) -> Starlette:
    """One route, POST /chat: sleeps `latency_s`, then answers with one reported tool call.

    With `error_rate` > 0 a deterministic share of orders fail (see `injected_error`).
    """

    async def chat(request: Request) -> Response:
        body = json.loads(await request.body())
        await asyncio.sleep(latency_s)
        order = body["message"].rsplit(" ", 1)[-1]
        fault = injected_error(order, error_rate)
        if fault == "http-500":
            return Response("injected failure", status_code=500)
        if fault == "not-json":
            return Response("<html>injected</html>", media_type="text/html")
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
    parser.add_argument("--error-rate", type=float, default=0.0, help="Share of orders that fail, e.g. 0.01.")
    args = parser.parse_args()
    uvicorn.run(
        create_app(args.latency_ms / 1000, args.error_rate),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
