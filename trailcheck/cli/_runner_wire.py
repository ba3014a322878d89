"""What the launcher and the warm runner agree on: where the runner listens and how they talk.

Standard library only: the launcher imports this before anything else, and the point of the
runner is that a command does not pay for importing trailcheck's dependencies.

The runner of a state directory listens on a Linux abstract Unix socket named after that
directory and the interpreter (no file to clean up, no path-length limit). The launcher sends one
request: a fixed-size header, then ``argv``, the environment, the working directory and
``sys.path`` as JSON, with its stdin, stdout and stderr attached (SCM_RIGHTS). The runner answers
with JSON lines: ``{"pid": N}`` when a forked child has taken the command, then ``{"exit": code}``
when it is done; or a single ``{"refused": reason}`` and the launcher runs the command itself.
"""

import hashlib
import json
import os
import socket
import struct
import sys
from pathlib import Path

RUNNER_ENV = "TRAILCHECK_WARM_RUNNER"
RUNNER_DIR = "runner"
STATE_FILE = "runner.json"
_HEADER = struct.Struct("!4sI")
_MAGIC = b"TCR1"
# The runner forks children that must behave exactly as a fresh process would: anything that
# changes how Prefect or Python start up must be the same as the runner's own.
PINNED_PREFIXES = ("PREFECT_", "PYTHON")


def supported() -> bool:
    """Abstract Unix sockets with descriptor passing, and fork: Linux."""
    return sys.platform.startswith("linux") and hasattr(socket, "send_fds") and hasattr(os, "fork")


def enabled(environ: dict[str, str] | None = None) -> bool:
    """The runner is on unless TRAILCHECK_WARM_RUNNER says off (0, off, false, no)."""
    value = (environ if environ is not None else os.environ).get(RUNNER_ENV, "").strip().lower()
    return supported() and value not in ("0", "off", "false", "no")


def address(home: Path, executable: str) -> bytes:
    """The abstract socket name of the runner serving `home` with `executable`."""
    digest = hashlib.sha256(f"{home}\0{executable}".encode()).hexdigest()[:32]
    return b"\0trailcheck-runner-" + digest.encode()


def pinned(environ: dict[str, str]) -> dict[str, str]:
    """The variables a request's environment must share with the runner's."""
    return {k: v for k, v in environ.items() if k.startswith(PINNED_PREFIXES)}


def send_request(sock: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    body = json.dumps(request).encode()
    socket.send_fds(sock, [_HEADER.pack(_MAGIC, len(body))], fds)
    sock.sendall(body)


def receive_request(sock: socket.socket) -> tuple[dict[str, object], list[int]]:
    """The request and the descriptors sent with it; ValueError for anything malformed."""
    head, fds, _flags, _addr = socket.recv_fds(sock, _HEADER.size, 3)
    if len(head) != _HEADER.size:
        for fd in fds:
            os.close(fd)
        raise ValueError("short header")
    magic, length = _HEADER.unpack(head)
    if magic != _MAGIC or length > 16 * 1024 * 1024:
        for fd in fds:
            os.close(fd)
        raise ValueError("not a trailcheck request")
    body = bytearray()
    while len(body) < length:
        chunk = sock.recv(min(65536, length - len(body)))
        if not chunk:
            break
        body.extend(chunk)
    if len(body) != length:
        for fd in fds:
            os.close(fd)
        raise ValueError("truncated request")
    return json.loads(body), fds


def send_line(sock: socket.socket, message: dict[str, object]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")
