"""Coverage-guided fuzzing (atheris, libFuzzer) of the parsers that read untrusted input.

    python -m fuzz.targets suite -runs=20000          # or: agent, trace; -max_total_time=60 also works
    make fuzz                                         # each target for a bounded number of runs

A target passes while the parser raises only its documented error (SuiteError, AgentConfigError,
pydantic's ValidationError); anything else is reported by libFuzzer with the crashing input,
written to ./crash-* so it can be replayed: ``python -m fuzz.targets suite crash-...``.
Hypothesis covers the same parsers in the test suite (tests/test_fuzz.py); this goes deeper.
"""

import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from pydantic import ValidationError

    from trailcheck.agents.config import AgentConfigError, load_agent_config
    from trailcheck.checks.suite_check import load_checked_suite
    from trailcheck.loading.suite import SuiteError
    from trailcheck.models import Trace

_DIR = Path(tempfile.mkdtemp(prefix="trailcheck-fuzz-"))


def _file(data: bytes, name: str) -> Path:
    path = _DIR / name
    path.write_bytes(data)
    return path


def fuzz_suite(data: bytes) -> None:
    with contextlib.suppress(SuiteError):
        load_checked_suite(_file(data, "suite.yaml"))


def fuzz_agent(data: bytes) -> None:
    with contextlib.suppress(AgentConfigError):
        load_agent_config(_file(data, "agent.yaml"))


def fuzz_trace(data: bytes) -> None:
    try:
        trace = Trace.model_validate_json(data)
    except ValidationError:
        return
    trace.to_trajectory()


SEEDS = {
    "agent": b"kind: http\nurl: http://127.0.0.1:1/chat\nheaders_env: {Authorization: X}\n"
    b"request_template: {input: {text: '{{message}}'}}\nresponse: {reply: output.text}\n",
    "trace": b'{"trace_id": "t", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", '
    b'"tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{\\"a\\": 1}"}}]}, '
    b'{"role": "tool", "tool_call_id": "c1", "content": "Error: down", "error": "HTTP 503"}]}',
}
TARGETS: dict[str, Callable[[bytes], None]] = {"suite": fuzz_suite, "agent": fuzz_agent, "trace": fuzz_trace}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python -m fuzz.targets {{{'|'.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    argv = [sys.argv[0], *sys.argv[2:]]
    if not any(not a.startswith("-") for a in argv[1:]):
        # Start from valid inputs, in a corpus directory of its own (libFuzzer writes to it).
        corpus = _DIR / "corpus"
        corpus.mkdir()
        if sys.argv[1] == "suite":
            shutil.copy(Path(__file__).resolve().parent.parent / "suites" / "support-desk.yaml", corpus)
        (corpus / "seed").write_bytes(SEEDS.get(sys.argv[1], b""))
        argv.append(str(corpus))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
