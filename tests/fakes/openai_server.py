"""A local stand-in for an OpenAI-compatible chat-completions API (the only thing faked: the LLM provider).

It speaks the real wire format: ``POST /v1/chat/completions`` answered with a ``chat.completion``
object (``choices[0].message`` with ``tool_calls`` whose arguments are JSON strings,
``finish_reason``, ``usage``), and rejects a conversation the real API rejects (a tool message
that answers no tool call, a tool call left unanswered) with a 400 in OpenAI's error format.
It follows a script and records every request and its headers, so tests can assert what the
model was sent.
"""

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Self

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

Body = dict[str, Any]
Messages = list[dict[str, Any]]
Reply = Body | Response | Callable[[Messages], Body | Response]


def tool_call(name: str, arguments: dict[str, Any] | str, call_id: str | None = None) -> Body:
    """An assistant tool call as the API sends it (arguments as a JSON string)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": call_id or f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


def completion(
    content: str | None = None, tool_calls: list[Body] | None = None, tokens: tuple[int, int] = (10, 5)
) -> Body:
    """A chat.completion object with one choice; finish_reason follows from the tool calls."""
    message: Body = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)},
    }


def api_error(
    status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
) -> Response:
    """An error response in OpenAI's format."""
    body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    return JSONResponse(body, status_code=status)


def conversation_problem(messages: Messages) -> str | None:
    """Why the real API would reject this conversation (tool messages out of place), or None."""
    pending: set[str] = set()
    for message in messages:
        role = message.get("role")
        if role == "tool":
            if message.get("tool_call_id") not in pending:
                return (
                    "messages with role 'tool' must be a response to a preceding message with 'tool_calls'."
                )
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            return (
                "An assistant message with 'tool_calls' must be followed by tool messages "
                "responding to each 'tool_call_id'."
            )
        if role == "assistant":
            pending = {c["id"] for c in message.get("tool_calls") or []}
    return None


@dataclass
class FakeOpenAI:
    """The script and what was received.

    `script` is either a list of replies, played in order (the last one repeats), or one
    function of the received messages. A reply is a completion body, a ready Response
    (errors), or a function of the messages returning either. `delay_s` makes a slow provider.
    """

    script: list[Reply] | Callable[[Messages], Body | Response] = field(default_factory=list)
    requests: list[Body] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0

    def load(self, script: list[Reply] | Callable[[Messages], Body | Response], delay_s: float = 0.0) -> Self:
        """Start over with a new script (one served fake can serve a whole test module)."""
        self.script, self.delay_s = script, delay_s
        self.requests.clear()
        self.headers.clear()
        return self

    def _next(self, messages: Messages) -> Body | Response:
        if callable(self.script):
            return self.script(messages)
        reply = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        return reply if isinstance(reply, Response) or not callable(reply) else reply(messages)

    def app(self) -> FastAPI:
        """The ASGI app to serve with `serve_in_thread`; its base URL for clients is ``<url>/v1``."""
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            if not isinstance(body.get("model"), str) or not isinstance(body.get("messages"), list):
                return api_error(400, "'model' and 'messages' are required properties")
            problem = conversation_problem(body["messages"])
            if problem:
                return api_error(400, f"Invalid parameter: {problem}")
            await asyncio.sleep(self.delay_s)
            reply = self._next(body["messages"])
            return reply if isinstance(reply, Response) else JSONResponse(reply)

        return app
