"""inspect-ai on the benchmark cases: a solver calling the agent over HTTP, a scorer with two assertions."""

import re
import sys
import tempfile
import uuid

import httpx
from inspect_ai import Task, eval
from inspect_ai.dataset import Sample
from inspect_ai.model import ModelOutput
from inspect_ai.scorer import CORRECT, INCORRECT, Score, Target, accuracy, scorer
from inspect_ai.solver import Generate, TaskState, solver

N, URL, CONCURRENCY = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ORDER_ID = re.compile(r"^A\d{5}$")
_client: httpx.AsyncClient | None = None


@solver
def call_agent():  # type: ignore[no-untyped-def]
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        global _client
        if _client is None:
            _client = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY))
        body = {"session_id": uuid.uuid4().hex, "message": state.input_text, "context": {}}
        reply = (await _client.post(URL, json=body)).json()
        state.metadata["reply"] = reply
        state.output = ModelOutput.from_content(model="agent", content=reply["reply"])
        return state

    return solve


@scorer(metrics=[accuracy()])
def two_assertions():  # type: ignore[no-untyped-def]
    async def score(state: TaskState, target: Target) -> Score:
        reply = state.metadata["reply"]
        tool_ok = any(
            c["name"] == "lookup_order" and ORDER_ID.match(str(c["args"].get("order_id", "")))
            for c in reply.get("tool_calls", [])
        )
        return Score(value=CORRECT if tool_ok and "shipped" in reply["reply"] else INCORRECT)

    return score


def main() -> None:
    dataset = [Sample(input=f"Where is my order A{i:05d}", target="shipped") for i in range(N)]
    task = Task(dataset=dataset, solver=call_agent(), scorer=two_assertions())
    with tempfile.TemporaryDirectory() as logs:
        [log] = eval(
            task,
            model="mockllm/model",
            max_samples=CONCURRENCY,
            display="none",
            log_dir=logs,
            log_level="warning",
        )
    accuracy_value = log.results.scores[0].metrics["accuracy"].value if log.results else 0.0
    print(f"passed {round(accuracy_value * N)}/{N}")


if __name__ == "__main__":
    main()
