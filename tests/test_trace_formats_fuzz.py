"""Hostile input to every trace reader: any JSON gives traces or located bad records, never a crash."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trailcheck.loading.traces import FORMATS, BadRecord, ReadTrace, UnknownFormatError, read_traces

SAMPLES = Path(__file__).parent / "data" / "traces"
_keys = st.sampled_from(
    ["messages", "role", "content", "parts", "kind", "part_kind", "type", "object", "span_data", "run_type",
     "inputs", "outputs", "child_runs", "resourceSpans", "scopeSpans", "spans", "attributes", "key", "value",
     "stringValue", "intValue", "tool_calls", "function", "arguments", "id", "trace_id", "output", "usage"]
)  # fmt: skip
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(_keys | st.text(max_size=4), inner, max_size=5)
    ),
    max_leaves=30,
)


def _mutated_sample_records() -> list[str]:
    lines = []
    for path in sorted(SAMPLES.glob("*.json*")):
        text = path.read_text()
        lines.extend(text.splitlines() if path.suffix == ".jsonl" else [json.dumps(json.loads(text))])
    return lines


@pytest.mark.parametrize("fmt", [f.name for f in FORMATS])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_json, min_size=1, max_size=3))
def test_any_json_is_read_or_reported_never_a_crash(fmt: str, values: list[object], tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values))
    try:
        for item in read_traces(path, fmt):
            assert isinstance(item, ReadTrace | BadRecord)
            if isinstance(item, ReadTrace):
                item.to_trajectory()
    except UnknownFormatError:
        pass


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_real_records_with_a_field_replaced_are_read_or_reported(data: st.DataObject, tmp_path: Path) -> None:
    line = data.draw(st.sampled_from(_mutated_sample_records()))
    value = json.loads(line)
    node = value
    for _ in range(data.draw(st.integers(0, 6))):  # walk down a few levels, then replace what is there
        if isinstance(node, dict) and node:
            key = data.draw(st.sampled_from(sorted(node)))
            if not isinstance(node[key], dict | list) or data.draw(st.booleans()):
                node[key] = data.draw(_json)
                break
            node = node[key]
        elif isinstance(node, list) and node:
            index = data.draw(st.integers(0, len(node) - 1))
            if not isinstance(node[index], dict | list) or data.draw(st.booleans()):
                node[index] = data.draw(_json)
                break
            node = node[index]
        else:
            break
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(value) + "\n")
    try:
        for item in read_traces(path):
            if isinstance(item, ReadTrace):
                item.to_trajectory()
    except UnknownFormatError:
        pass


@pytest.mark.parametrize(
    ("sample", "old", "new"),
    [
        ("otel_genai_attributes.jsonl", '"intValue": "12"', '"stringValue": "abc"'),
        ("anthropic_messages.jsonl", '"input_tokens": 44', '"input_tokens": "x"'),
        ("agents_sdk_trace.jsonl", '"input_tokens": 12', '"input_tokens": "x"'),
        ("langchain_run_tree.jsonl", '"prompt_tokens": 12', '"prompt_tokens": "x"'),
    ],
)
def test_a_value_of_the_wrong_kind_is_a_located_bad_record(
    sample: str, old: str, new: str, tmp_path: Path
) -> None:
    text = (SAMPLES / sample).read_text()
    assert old in text
    path = tmp_path / sample
    path.write_text(text.replace(old, new))
    bad = [i for i in read_traces(path) if isinstance(i, BadRecord)]
    assert len(bad) == 1 and "a value cannot be read (ValueError" in bad[0].problem
    assert bad[0].render().startswith(f"{path}:")
