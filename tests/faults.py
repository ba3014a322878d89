"""Fault injection for tests: a TCP relay to cut and restore, a misbehaving raw HTTP server, a closed port.

The relay stands between trailcheck and a real server (PostgreSQL on 127.0.0.1:5432, a Slack fake,
an agent), so an outage is simulated without stopping a server other tests share:

    with TcpRelay(5432) as relay:          # 127.0.0.1:relay.port -> 127.0.0.1:5432
        url = f"postgresql://postgres@127.0.0.1:{relay.port}/test"
        relay.cut()                        # every connection dropped, new ones refused
        relay.restore()                    # listening again on the same port
        relay.freeze()                     # connections stay open (new ones accepted), nothing flows
        relay.thaw()                       # bytes flow again
"""

import asyncio
import contextlib
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Self


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TcpRelay:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`target_port` in a thread of its own; cut() and restore()."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thawed = asyncio.Event()
        self._thawed.set()

    def __enter__(self) -> Self:
        self._thread.start()
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    def restore(self) -> None:
        """Listen (again, on the same port once one was chosen)."""
        self._call(self._listen())

    def cut(self) -> None:
        """Stop listening and drop every open connection, as a server that went down would."""
        self._call(self._cut())

    def freeze(self) -> None:
        """Stop forwarding, keeping every connection open: a server that hangs (SIGSTOP, a stall)."""
        self._loop.call_soon_threadsafe(self._thawed.clear)

    def thaw(self) -> None:
        """Forward again what was held and what comes next."""
        self._loop.call_soon_threadsafe(self._thawed.set)

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        await self._thawed.wait()
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {client_writer, server_writer}

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    await self._thawed.wait()
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


Behaviour = Callable[[asyncio.StreamReader, asyncio.StreamWriter, dict[str, Any]], Awaitable[None]]


class RawHttpServer:
    """A misbehaving HTTP server on raw asyncio sockets, in a thread of its own.

    It reads one request (headers and a Content-Length body), decodes the JSON body and hands it
    to the behaviour named by the body's ``message`` (trailcheck's protocol), or by `default`.
    No HTTP library answers, so a behaviour can break HTTP in any way a real server could.
    """

    def __init__(self, behaviours: dict[str, Behaviour], default: str | None = None) -> None:
        self.behaviours, self.default = behaviours, default
        self.requests: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/chat"

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                 if line.lower().startswith(b"content-length:")),
                0,
            )  # fmt: skip
            body = json.loads(await reader.readexactly(length)) if length else {}
            self.requests.append(body)
            name = body.get("message") if isinstance(body, dict) else None
            behaviour = self.behaviours.get(str(name)) or self.behaviours[str(self.default)]
            await behaviour(reader, writer, body)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.transport.abort()
            self._tasks.discard(task)


def when(
    condition: Callable[[], bool], action: Callable[[], None], timeout_s: float = 120
) -> threading.Thread:
    """In a thread: poll `condition` every 50 ms and run `action` once it holds (a fault mid-run,
    for agents that run in a process of their own, where a hook cannot reach)."""

    def watch() -> None:
        import time

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):  # e.g. the tables do not exist yet
                if condition():
                    action()
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread
