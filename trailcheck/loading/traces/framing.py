"""Cut a trace file into records: JSON Lines, one whole JSON document, or binary protobuf.

Most formats are JSON Lines (one record per line, streamed: one line in memory at a time). A file
that is one pretty-printed JSON document (a pydantic-ai history dumped with indent, an export
saved from a UI) is one record. A file that does not start with JSON is binary (OTLP protobuf)
and is handed over whole. ``.gz`` files are read through gzip.
"""

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from io import BufferedIOBase
from pathlib import Path

import orjson

from trailcheck.loading.traces.base import Record
from trailcheck.loading.traces.errors import TraceFileError

_WHITESPACE = b" \t\r\n\xef\xbb\xbf"  # with a UTF-8 byte-order mark
WHOLE_DOCUMENT_LIMIT = 256 * 1024 * 1024


@dataclass(frozen=True)
class NotJson:
    """A line that is not valid JSON; `error` says where it breaks."""

    error: str


def _open(path: Path) -> BufferedIOBase:
    if not path.is_file():
        raise TraceFileError(f"{path}: {'no such file' if not path.exists() else 'not a file'}")
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    except OSError as exc:
        raise TraceFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def _decode(path: Path, number: int, line: bytes) -> object:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TraceFileError(f"{path}:{number}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        return json.loads(text)  # what orjson refuses and json reads: NaN, integers beyond 64 bits
    except json.JSONDecodeError as exc:
        return NotJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}")


def is_binary(head: bytes) -> bool:
    """Whether a file starting with `head` is not JSON (so: protobuf)."""
    start = head.lstrip(_WHITESPACE)[:1]
    return bool(start) and start not in b"{["


def records(path: Path) -> Iterator[Record]:
    """The records of `path` (see the module docstring); raises TraceFileError if it cannot be read."""
    with _open(path) as handle:
        try:
            head = handle.peek(64) if hasattr(handle, "peek") else b""
        except OSError as exc:
            raise TraceFileError(f"{path}: cannot read: {exc}") from None
        if is_binary(head):
            yield Record(1, handle.read(), binary=True)
            return
        first = True
        for number, line in enumerate(handle, start=1):
            if not line.strip(_WHITESPACE):
                continue
            decode = partial(_decode, path, number)
            if first:
                first = False
                if isinstance(decode(line), NotJson) and line.lstrip(_WHITESPACE)[:1] in (b"{", b"["):
                    whole = _whole_document(path)
                    if whole is not None:
                        yield Record(number, b"", value=whole)
                        return
            yield Record(number, line, decode)


def _whole_document(path: Path) -> object | None:
    """The file as one JSON document, or None when it is not one (then it is read line by line)."""
    with _open(path) as handle:
        data = handle.read(WHOLE_DOCUMENT_LIMIT + 1)
    if len(data) > WHOLE_DOCUMENT_LIMIT:
        return None
    try:
        document: object = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return document
