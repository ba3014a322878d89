"""DeepEval on the benchmark cases: the agent called over HTTP, then `evaluate` with two custom metrics."""

import asyncio
import re
import sys
import uuid

import httpx
from deepeval import evaluate
from deepeval.evaluate.configs import AsyncConfig, CacheConfig, DisplayConfig, ErrorConfig
from deepeval.metrics import BaseMetric
from deepeval.test_case import LLMTestCase, ToolCall

N, URL, CONCURRENCY = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ORDER_ID = re.compile(r"^A\d{5}$")


class _Assertion(BaseMetric):
    def __init__(self) -> None:
        self.threshold = 1.0
        self.async_mode = True
        self.include_reason = False
        self.strict_mode = True
        self.evaluation_model = None
        self.score = 0.0
        self.success = False

    def check(self, case: LLMTestCase) -> bool:
        raise NotImplementedError

    def measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        self.success = self.check(test_case)
        self.score = 1.0 if self.success else 0.0
        return self.score

    async def a_measure(self, test_case: LLMTestCase, *args: object, **kwargs: object) -> float:
        return self.measure(test_case)

    def is_successful(self) -> bool:
        return self.success


class CalledLookupOrder(_Assertion):
    @property
    def __name__(self) -> str:  # type: ignore[override]
        return "CalledLookupOrder"

    def check(self, case: LLMTestCase) -> bool:
        calls = case.tools_called or []
        return any(
            c.name == "lookup_order" and ORDER_ID.match(str((c.input_parameters or {}).get("order_id", "")))
            for c in calls
        )


class SaysShipped(_Assertion):
    @property
    def __name__(self) -> str:  # type: ignore[override]
        return "SaysShipped"

    def check(self, case: LLMTestCase) -> bool:
        return "shipped" in (case.actual_output or "")


async def collect() -> list[LLMTestCase]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=CONCURRENCY)) as client:

        async def one(i: int) -> LLMTestCase:
            message = f"Where is my order A{i:05d}"
            async with limit:
                body = {"session_id": uuid.uuid4().hex, "message": message, "context": {}}
                reply = (await client.post(URL, json=body)).json()
            calls = [
                ToolCall(name=c["name"], input_parameters=c["args"]) for c in reply.get("tool_calls") or []
            ]
            return LLMTestCase(input=message, actual_output=reply["reply"], tools_called=calls)

        return list(await asyncio.gather(*(one(i) for i in range(N))))


def main() -> None:
    cases = asyncio.run(collect())
    result = evaluate(
        test_cases=cases,
        metrics=[CalledLookupOrder(), SaysShipped()],
        async_config=AsyncConfig(run_async=True, max_concurrent=CONCURRENCY),
        display_config=DisplayConfig(show_indicator=False, print_results=False, verbose_mode=False),
        cache_config=CacheConfig(write_cache=False, use_cache=False),
        error_config=ErrorConfig(ignore_errors=False),
    )
    passed = sum(1 for r in result.test_results if r.success)
    print(f"passed {passed}/{N}")


if __name__ == "__main__":
    main()
