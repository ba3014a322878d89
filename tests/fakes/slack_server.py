"""A local stand-in for the Slack Web API (the only thing faked: Slack itself), for the real slack-sdk.

It speaks Slack's wire protocol the way slack-sdk's own tests fake it (a ThreadingHTTPServer on
127.0.0.1): methods under ``/api/<method>``, the bot token in ``Authorization: Bearer``, JSON or
form bodies for POST and query strings for GET, and Slack's JSON answers (HTTP 200 with
``"ok": false`` and an ``error`` code for API errors; HTTP 429 with ``Retry-After`` when rate
limited). Implemented: ``chat.postMessage`` (with ``thread_ts``) and ``chat.getPermalink``.
Errors: ``not_authed``, ``invalid_auth``, ``channel_not_found``, ``no_text``, ``invalid_blocks``
(over 50 blocks or a text over 3000 characters, as Slack enforces), ``thread_not_found`` and
``ratelimited``.

    with serve_slack(token="xoxb-test", channels={"#agent-ci": "C0AGENTCI"}) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        slack.rate_limit(times=1, retry_after=1)   # the next call gets a 429
        ...
        slack.posts                               # every chat.postMessage Slack accepted
"""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
TEAM_DOMAIN = "trailcheck-test"


@dataclass
class ApiCall:
    """One request as Slack received it."""

    method: str
    http_verb: str
    token: str | None
    args: dict[str, Any]


@dataclass
class FakeSlack:
    """The workspace state (token, channels, messages) and the scripted failures."""

    token: str
    channels: dict[str, str]
    calls: list[ApiCall] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    _rate_limited: int = 0
    _failing: int = 0
    _fail_status: int = 500
    _retry_after: int = 1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, times: int = 1, status: int = 500) -> None:
        """Answer the next `times` calls with this HTTP status (Slack's own outages are 500/503)."""
        with self._lock:
            self._failing, self._fail_status = times, status

    def rate_limit(self, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls with HTTP 429 and this Retry-After (seconds)."""
        with self._lock:
            self._rate_limited, self._retry_after = times, retry_after

    def reset(self) -> None:
        """Forget every call and message (one server can serve a whole test module)."""
        with self._lock:
            self.calls.clear()
            self.posts.clear()
            self._rate_limited = 0
            self._failing = 0

    def methods(self) -> list[str]:
        """The Web API methods called, in order (rate-limited attempts included)."""
        return [c.method for c in self.calls]

    def handle(self, call: ApiCall) -> tuple[int, dict[str, str], dict[str, Any]]:
        """(HTTP status, headers, JSON body) for one call."""
        with self._lock:
            self.calls.append(call)
            if self._failing > 0:
                self._failing -= 1
                return self._fail_status, {}, {"ok": False, "error": "fatal_error"}
            if self._rate_limited > 0:
                self._rate_limited -= 1
                return 429, {"Retry-After": str(self._retry_after)}, {"ok": False, "error": "ratelimited"}
        if call.token is None:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if call.token != self.token:
            return 200, {}, {"ok": False, "error": "invalid_auth"}
        if call.method == "chat.postMessage":
            return 200, {}, self._post_message(call.args)
        if call.method == "chat.getPermalink":
            return 200, {}, self._permalink(call.args)
        return 404, {}, {"ok": False, "error": "unknown_method", "req_method": call.method}

    def _channel_id(self, name: str) -> str | None:
        if name in self.channels.values():
            return name
        return self.channels.get(name)

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        blocks = args.get("blocks")
        if isinstance(blocks, str):  # form-encoded bodies carry blocks as a JSON string
            blocks = json.loads(blocks)
        if not args.get("text") and not blocks:
            return {"ok": False, "error": "no_text"}
        problems = _block_problems(blocks or [])
        if problems:
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        thread_ts = args.get("thread_ts")
        with self._lock:
            if thread_ts and not any(p["ts"] == thread_ts for p in self.posts):
                return {"ok": False, "error": "thread_not_found"}
            ts = f"{time.time():.6f}"
            while any(p["ts"] == ts for p in self.posts):
                ts = f"{float(ts) + 0.000001:.6f}"
            message = {
                "type": "message",
                "subtype": "bot_message",
                "text": args.get("text", ""),
                "ts": ts,
                "username": "trailcheck",
                "bot_id": "B0TRAILCHK",
                "blocks": blocks or [],
            }
            if thread_ts:
                message["thread_ts"] = thread_ts
            self.posts.append({**message, "channel": channel, "unfurl_links": args.get("unfurl_links")})
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(args.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(args.get("message_ts", ""))
        if not any(p["ts"] == ts and p["channel"] == channel for p in self.posts):
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }


def _block_problems(blocks: list[dict[str, Any]]) -> list[str]:
    """The limits Slack enforces on Block Kit that a renderer can break."""
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"must be less than {MAX_BLOCKS + 1} items [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text", "") if isinstance(block.get("text"), dict) else ""
        if len(text) > MAX_SECTION_TEXT:
            problems.append(
                f"must be less than {MAX_SECTION_TEXT + 1} characters [json-pointer:/blocks/{i}/text/text]"
            )
        if "type" not in block:
            problems.append(f"missing required field: type [json-pointer:/blocks/{i}]")
    return problems


def _handler(slack: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def _answer(self, verb: str, args: dict[str, Any]) -> None:
            url = urlsplit(self.path)
            method = url.path.removeprefix("/api/")
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
            status, headers, body = slack.handle(ApiCall(method, verb, token, args))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer("GET", dict(parse_qsl(urlsplit(self.path).query)))

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if self.headers.get("Content-Type", "").startswith("application/json"):
                args = json.loads(raw) if raw else {}
            else:
                args = dict(parse_qsl(raw))
            args.update(parse_qsl(urlsplit(self.path).query))
            self._answer("POST", args)

    return Handler


@contextmanager
def serve_slack(
    token: str = "xoxb-test-token", channels: dict[str, str] | None = None
) -> Iterator[FakeSlack]:
    """Serve a fake Slack workspace on 127.0.0.1 (an ephemeral port) for the block's duration."""
    slack = FakeSlack(token=token, channels=channels or {"#agent-ci": "C0AGENTCI"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(slack))
    server.daemon_threads = True
    slack.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, name="fake-slack", daemon=True)
    thread.start()
    try:
        yield slack
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
