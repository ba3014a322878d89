"""Hostile input: fuzzed suites, agent files and trace lines fail only with the documented errors.

Documented errors: `SuiteError` (suite files), `AgentConfigError` (agent files), pydantic's
`ValidationError` (a trace line). Anything else (a KeyError, a RecursionError, a crash of the
process) is a bug. Bombs run in a child process with its address space capped, so "bounded
memory" is enforced by the kernel, not hoped for.

To extend after merge: add a strategy and a `@given` test per new parser (the trace file reader,
the gateway's fault/fixture parsing) calling it the same way, with its own documented error type.
"""

import json
import resource
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trailcheck.agents.config import AgentConfigError, load_agent_config
from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.loading.suite import SuiteError
from trailcheck.models import Trace

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
SUITE_KEYS = ["name", "version", "defaults", "cases", "id", "turns", "expectations", "tool_calls",
              "final_answer", "mode", "calls", "args", "regex", "budgets", "custom", "check"]  # fmt: skip
suite_like = st.recursive(
    json_values,
    lambda inner: (
        st.dictionaries(st.sampled_from(SUITE_KEYS), inner, max_size=5) | st.lists(inner, max_size=3)
    ),
    max_leaves=30,
)


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


@FUZZ
@given(data=st.binary(max_size=2000) | st.text(max_size=2000).map(lambda t: t.encode("utf-8", "replace")))
def test_suite_loader_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    try:
        load_checked_suite(_write(tmp_path, "s.yaml", data))
    except SuiteError as exc:
        assert str(exc).startswith(f"invalid suite {tmp_path / 's.yaml'}")


@FUZZ
@given(document=suite_like)
def test_suite_loader_on_suite_shaped_documents(tmp_path: Path, document: Any) -> None:
    path = _write(tmp_path, "s.yaml", yaml.safe_dump(document))
    try:
        suite = load_checked_suite(path)
    except SuiteError as exc:
        assert exc.problems and all(p.problem for p in exc.problems)
    else:
        assert suite.cases  # whatever loads is a usable suite


@FUZZ
@given(
    document=st.fixed_dictionaries(
        {"kind": st.sampled_from(["http", "openai", "python", "grpc"])},
        optional={
            "url": st.text(max_size=30) | st.just("http://127.0.0.1:1/chat"),
            "base_url": st.just("http://127.0.0.1:1/v1"),
            "model": st.text(max_size=10),
            "target": st.text(max_size=30),
            "headers": json_values,
            "headers_env": json_values,
            "timeout_s": json_values,
            "request_template": json_values,
            "response": json_values,
            "tools": json_values,
            "retries": json_values,
        },
    )
)
def test_agent_config_loader_on_agent_shaped_documents(tmp_path: Path, document: dict[str, Any]) -> None:
    path = _write(tmp_path, "agent.yaml", yaml.safe_dump(document))
    try:
        load_agent_config(path)
    except AgentConfigError as exc:
        assert str(exc).startswith(str(path))


@FUZZ
@given(data=st.binary(max_size=1000))
def test_agent_config_loader_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = _write(tmp_path, "agent.yaml", data)
    try:
        load_agent_config(path)
    except AgentConfigError as exc:
        assert str(exc).startswith(str(path))


messages = st.lists(
    st.dictionaries(
        st.sampled_from(["role", "content", "tool_calls", "tool_call_id", "error", "function", "name"]),
        json_values | st.sampled_from(["user", "assistant", "tool", "system"]),
        max_size=5,
    ),
    max_size=6,
)


@FUZZ
@given(line=st.binary(max_size=2000) | st.builds(lambda m: json.dumps({"messages": m}).encode(), messages))
def test_trace_lines_fail_only_with_validation_errors(line: bytes) -> None:
    try:
        trace = Trace.model_validate_json(line)
    except ValidationError:
        return
    trajectory = trace.to_trajectory()  # whatever validates can be scored
    assert trajectory.case_id


@FUZZ
@given(
    calls=st.lists(
        json_values | st.fixed_dictionaries({"id": json_values, "function": json_values}), max_size=4
    ),
    tool=st.fixed_dictionaries(
        {"role": st.just("tool"), "tool_call_id": json_values, "content": json_values}
    ),
)
def test_trace_tool_calls_of_any_shape_become_a_trajectory(calls: list[Any], tool: dict[str, Any]) -> None:
    trace = Trace.model_validate({"messages": [{"role": "assistant", "tool_calls": calls}, tool]})
    trace.to_trajectory()


def _refused_in_a_small_process(code: str, memory_mb: int = 1024) -> subprocess.CompletedProcess[str]:
    """Run `code` in a child whose address space is capped: a bomb that gets through dies, it cannot swap."""
    limit = memory_mb * 1024 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        preexec_fn=cap,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard, not a timing assertion
        check=False,
    )


BILLION_LAUGHS = "\n".join(
    ["name: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    + ["cases: [*a9]"]
)


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        (BILLION_LAUGHS, "alias expansion bomb"),
        ("name: deep\ncases: " + "[" * 100_000 + "]" * 100_000, "nesting deeper than 100 levels"),
        ("name: deep\ncases:\n" + "- " * 100_000 + "x\n", "nesting deeper than 100 levels"),
        (
            "name: chain\n"
            + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" if i else "a0: &a0 [x]\n" for i in range(3000)),
            "alias expansion bomb",  # each alias only one level deeper, 4.5 million nodes in all
        ),
    ],
    ids=["billion-laughs", "deep-flow", "deep-block", "alias-chain"],
)
@pytest.mark.parametrize("loader", ["suite", "agent"])
def test_bombs_are_refused_within_bounded_memory(
    tmp_path: Path, document: str, fragment: str, loader: str
) -> None:
    path = _write(tmp_path, "bomb.yaml", document)
    error = "SuiteError" if loader == "suite" else "AgentConfigError"
    call = "load_suite" if loader == "suite" else "load_agent_config"
    module = "trailcheck.loading.suite" if loader == "suite" else "trailcheck.agents.config"
    if loader == "agent" and len(document) > 1024 * 1024:
        fragment = "over the 1,048,576-byte limit"
    done = _refused_in_a_small_process(
        f"""
        from {module} import {error}, {call}
        try:
            {call}({str(path)!r})
        except {error} as exc:
            print("REFUSED", exc)
        else:
            print("LOADED")
        """
    )
    assert done.returncode == 0, done.stderr[-2000:]  # not killed: no segfault, no MemoryError
    assert "REFUSED" in done.stdout and fragment in done.stdout, done.stdout
    assert str(path) in done.stdout  # the message names the file


def test_huge_files_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(SuiteError, match="over the 20,971,520-byte limit"):
        load_checked_suite(path)
    with pytest.raises(AgentConfigError, match=r"over the 1,048,576-byte limit"):
        load_agent_config(path)


def test_python_object_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    tagged = f"name: x\ncases: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_checked_suite(_write(tmp_path, "s.yaml", tagged))
    with pytest.raises(AgentConfigError, match="cannot read agent file"):
        load_agent_config(_write(tmp_path, "a.yaml", tagged))
    assert not marker.exists()


def test_no_unsafe_yaml_loader_in_the_code_base() -> None:
    root = Path(__file__).resolve().parents[1]
    offenders = []
    for package in ("trailcheck", "agents", "checks", "tasks", "flows", "bench", "fuzz"):
        for source in (root / package).rglob("*.py"):
            if any(part.startswith(".") for part in source.relative_to(root).parts):
                continue  # bench/.peers: other tools' venvs, not trailcheck's code
            text = source.read_text()
            for bad in ("yaml.load(", "yaml.Loader", "yaml.FullLoader", "yaml.UnsafeLoader", "full_load(",
                        "unsafe_load(", "yaml.CLoader", "yaml.CFullLoader"):  # fmt: skip
                if bad in text and not (source.name == "safe_yaml.py" and bad == "yaml.load("):
                    offenders.append(f"{source.relative_to(root)}: {bad}")
    assert offenders == [], "YAML must be read through trailcheck.loading.safe_yaml"


CRASHES = Path(__file__).parent / "fuzz_crashes"


@pytest.mark.parametrize("path", sorted(CRASHES.glob("trace-*")), ids=lambda p: p.name)
def test_inputs_atheris_crashed_on_are_fixed(path: Path) -> None:
    """Inputs on which `python -m fuzz.targets` found a crash once; each must now be handled."""
    try:
        trace = Trace.model_validate_json(path.read_bytes())
    except ValidationError:
        return
    trace.to_trajectory()


def test_a_tool_answer_through_the_fallback_is_not_answered_twice() -> None:
    messages = [
        {"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]},  # no id
        {"role": "tool", "tool_call_id": "unknown", "content": "first"},
        {"role": "tool", "content": "second"},  # no id either: nothing open any more
    ]
    trajectory = Trace.model_validate({"messages": messages}).to_trajectory()
    assert [c.result for c in trajectory.tool_calls] == ["first"]
