"""Serve an ASGI app on 127.0.0.1 in a background thread (the reference agent, its tools, test fakes)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


class ServerStartError(RuntimeError):
    """The server did not start listening in time."""


@contextmanager
def serve_in_thread(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout_s: float = 10.0,
    lifespan: Literal["auto", "on", "off"] = "off",
) -> Iterator[str]:
    """Serve `app` until the block exits; yields its base URL (``http://127.0.0.1:PORT``).

    Port 0 picks a free port. The socket is bound before the thread starts, so the URL is
    valid as soon as it is yielded and no other process can take the port in between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    bound_port = sock.getsockname()[1]
    # log_config=None: uvicorn's own dictConfig would shut down every logging handler of the
    # process first, and Prefect's API log handler blocks until its queue drains.
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,
        access_log=False,
        lifespan=lifespan,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise ServerStartError(f"server for {app!r} did not start on {host}:{bound_port}")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)
        sock.close()
