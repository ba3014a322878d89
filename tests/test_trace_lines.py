"""Trace files with hostile lines: invalid UTF-8 and huge lines cost their line (file:line), not the file."""

import json
import tracemalloc
from pathlib import Path

import pytest

from tests.live_data import trace_dict
from trailcheck.loading.lines import read_lines
from trailcheck.loading.sources.jsonl import JsonlSource


def write(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def good(i: int) -> bytes:
    return json.dumps(trace_dict(i)).encode()


def test_an_invalid_utf8_byte_skips_its_line_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", good(1), good(2)[:-2] + b"\xff\xfe" + good(2)[-2:], good(3))
    source = JsonlSource(path)
    assert [t.trace_id for t in source] == ["t-000001", "t-000003"]
    assert source.bad.count == 1 and f"{path}:2" in source.bad.problems[0]
    # The line is skipped with its place; the native reader reads bytes, so pydantic names the break.


def test_a_line_over_the_cap_is_skipped_with_its_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRAILCHECK_MAX_LINE_BYTES", "4000")
    huge = json.dumps(trace_dict(2, answer="x" * 10_000)).encode()
    path = write(tmp_path / "t.jsonl", good(1), huge, good(3))
    source = JsonlSource(path)
    assert [t.trace_id for t in source] == ["t-000001", "t-000003"]
    assert f"{path}:2" in source.bad.problems[0] and "line longer than 4,000 bytes" in source.bad.problems[0]


def test_a_huge_line_is_never_held_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as handle:
        handle.write(b'{"a": "' + b"x" * (40 * 1024 * 1024) + b'"}\n')
        handle.write(b"tail\n")
    tracemalloc.start()
    try:
        with path.open("rb") as handle:
            lines = list(read_lines(handle, limit=1024 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [(1, None), (2, b"tail\n")]
    assert peak < 8 * 1024 * 1024  # a few chunks, not the 40 MB line


def test_a_line_exactly_at_the_cap_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", b"x" * 10, b"y" * 11)
    with path.open("rb") as handle:
        assert list(read_lines(handle, limit=11)) == [(1, b"x" * 10 + b"\n"), (2, b"y" * 11 + b"\n")]
    with path.open("rb") as handle:
        assert list(read_lines(handle, limit=10)) == [(1, b"x" * 10 + b"\n"), (2, None)]
