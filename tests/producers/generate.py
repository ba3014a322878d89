"""Regenerate the trace samples in tests/data/traces/ with the real producing libraries.

    .venv/bin/pip install -e ".[trace-producers]"
    .venv/bin/python tests/producers/generate.py            # every sample
    .venv/bin/python tests/producers/generate.py otel-attributes   # one

Each producer runs one support-desk conversation against the local fake OpenAI-compatible
server (tests/fakes/openai_server.py), in its own process (instrumentations patch the openai
SDK and read their settings at start): the user asks for a refund, the model looks the order up
(it succeeds), tries the refund (the tool fails), then answers. The facts every sample must
carry are in `SCENARIO` (tests/producers/scenario.py), which the tests assert field by field.

Run from any directory: the repo root is appended to sys.path after the producers are imported,
so the Agents SDK's `agents` package is not shadowed by the repo's agents/ folder.
"""

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "tests" / "data" / "traces"
SAMPLES = {
    "pydantic-ai": "pydantic_ai_history.json",
    "otel-attributes": "otel_genai_attributes.jsonl",
    "otel-events": "otel_genai_events.jsonl",
    "otel-protobuf": "otel_genai.pb",
    "openinference": "openinference.jsonl",
    "agents-sdk": "agents_sdk_trace.jsonl",
    "responses": "responses_items.jsonl",
    "anthropic": "anthropic_messages.jsonl",
    "langsmith": "langchain_run_tree.jsonl",
    "langfuse": "langfuse_otel.jsonl",
}


def main(argv: list[str]) -> int:
    """Run each named producer (all by default) in its own process."""
    names = argv or list(SAMPLES)
    unknown = [n for n in names if n not in SAMPLES]
    if unknown:
        print(f"unknown sample(s) {unknown}; known: {', '.join(SAMPLES)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names:
        env = {**os.environ, "PYTHONPATH": ""}
        command = [sys.executable, str(HERE / "produce.py"), name, str(OUT / SAMPLES[name])]
        result = subprocess.run(command, env=env, cwd=HERE, check=False)
        if result.returncode:
            return result.returncode
        print(f"wrote {OUT / SAMPLES[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
