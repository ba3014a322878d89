"""A local stand-in for an OpenAI-compatible chat-completions API (the only thing faked: the LLM provider).

It speaks the real wire format (``POST /v1/chat/completions``, ``choices[0].message`` with
``tool_calls`` whose arguments are JSON strings, ``usage``), follows a script of replies, and
records every request so tests can assert what the model was sent.
"""

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

Reply = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | Response


def tool_call(name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    """An assistant tool call as the API sends it (arguments as a JSON string)."""
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": args},
    }


def completion(
    content: str | None = None, tool_calls: list[dict[str, Any]] | None = None, tokens=(10, 5)
) -> dict:
    """A chat.completion object with one choice."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [
            {"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}
        ],
        "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)},
    }


@dataclass
class FakeOpenAI:
    """The script (replies in order; the last one repeats) and what was received."""

    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            reply = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
            if isinstance(reply, Response):
                return reply
            return JSONResponse(reply(body) if callable(reply) else reply)

        return app
