"""Serve a Python agent callable over trailcheck's HTTP protocol, in a process of its own.

trailcheck runs this file (by path, with the interpreter the agent file names, so trailcheck need
not be installed there) for a ``python:`` target::

    python python_host.py package.module:function --port 8123     # serve POST /chat, GET /health
    python python_host.py package.module:function --check          # exit 2 if the module is not found

Standard library only, for the same reason. The callable gets a request with ``session_id``,
``message`` and ``context`` (trailcheck's `AgentRequest` when trailcheck is importable here) and
returns a reply (a pydantic model or a dict in trailcheck's protocol, agents/protocol.py). Sync
callables run in the server's request threads, async ones on one event loop. Its tools are at
``$TRAILCHECK_TOOLS_URL``; it should send ``$TRAILCHECK_SESSION_HEADER: <session_id>`` with each call.
"""

import os
import sys

# Run by path, this file's folder (trailcheck's agents/: config.py, errors.py, ...) would come first
# on the import path and shadow the user's modules of the same names.
_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != _HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402

EXIT_NOT_FOUND = 2
EXIT_IMPORT_FAILED = 3


@dataclass
class Request:
    """Stands in for trailcheck's AgentRequest where trailcheck is not installed."""

    session_id: str
    message: str
    context: dict[str, Any] = field(default_factory=dict)


def request_type() -> Any:
    try:
        from trailcheck.agents.protocol import AgentRequest
    except ImportError:
        return Request
    return AgentRequest


def find(module_name: str) -> str | None:
    """Why `module_name` cannot be found, or None when it can (its code is not run)."""
    try:
        found = importlib.util.find_spec(module_name)
    except (ImportError, ValueError) as exc:  # a parent package is missing or broken
        return f"{type(exc).__name__}: {exc}"
    return None if found is not None else f"No module named {module_name!r}"


def load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    function = getattr(module, attr, None)
    if function is None or not callable(function):
        raise AttributeError(f"module {module_name!r} has no callable {attr!r}")
    return function


def to_json(reply: Any) -> Any:
    if hasattr(reply, "model_dump"):
        return reply.model_dump(mode="json")
    return reply


class Host:
    def __init__(self, function: Any) -> None:
        self.function = function
        self.request_type = request_type()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def answer(self, body: dict[str, Any]) -> Any:
        request = self.request_type(
            session_id=body["session_id"], message=body["message"], context=body.get("context") or {}
        )
        result = self.function(request)
        if inspect.isawaitable(result):
            result = asyncio.run_coroutine_threadsafe(_awaited(result), self.loop).result()
        return to_json(result)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def handler(host: Host) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: trailcheck sends every turn on one connection

        def do_GET(self) -> None:
            self._send(200, {"status": "ok"} if self.path == "/health" else {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                reply = host.answer(body)
            except Exception as exc:  # the agent's bug is the trial's error: say what it was
                traceback.print_exc()
                self._send(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._send(200, reply)

        def _send(self, status: int, document: Any) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per turn would bury what the agent itself prints

    return Handler


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="package.module:function")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="only say whether the module can be found")
    args = parser.parse_args(argv)
    module_name = args.target.partition(":")[0]
    missing = find(module_name)
    if missing:
        print(f"trailcheck: cannot import {module_name!r}: {missing}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.check:
        return 0
    try:
        function = load(args.target)
    except Exception as exc:  # a module that fails while importing: its traceback, then one line
        traceback.print_exc()
        print(f"trailcheck: importing {args.target} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_IMPORT_FAILED
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(Host(function)))
    server.daemon_threads = True
    print(f"trailcheck: serving {args.target} on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
