"""Serve a case's recorded tool responses (its fixtures) instead of the live tools.

A call matches a fixture when the tool is the same and every argument the fixture names has the
same value in the call. Fixtures of one tool are served in order; the last one repeats. Used by
the gateway and by the OpenAI tool loop, so a case promoted from a production trace replays
offline whichever way its agent is run.
"""

from collections import Counter
from collections.abc import Sequence

from pydantic import JsonValue

from trailcheck.agents.faults import ToolAnswer
from trailcheck.models import ToolFixture


class FixtureBook:
    """The fixtures of one conversation and how many times each group has been served."""

    def __init__(self, fixtures: Sequence[ToolFixture]) -> None:
        self.fixtures = list(fixtures)
        self._served: Counter[tuple[int, ...]] = Counter()

    def __bool__(self) -> bool:
        return bool(self.fixtures)

    def answer(self, tool: str, args: dict[str, JsonValue]) -> ToolFixture | None:
        """The fixture that answers this call, or None when none matches."""
        group = tuple(
            i
            for i, f in enumerate(self.fixtures)
            if f.tool == tool and all(k in args and _same(args[k], v) for k, v in f.args.items())
        )
        if not group:
            return None
        served = self._served[group]
        self._served[group] += 1
        return self.fixtures[group[min(served, len(group) - 1)]]


def fixture_response(fixture: ToolFixture) -> ToolAnswer:
    """The recorded answer as the tool would send it: the recorded status and body (or error)."""
    body: JsonValue = fixture.body
    if body is None and fixture.error is not None:
        body = {"error": fixture.error}
    return ToolAnswer.of_json(fixture.status, body)


def _same(actual: JsonValue, expected: JsonValue) -> bool:
    # Path and query arguments arrive as text; a recorded number or bool matches its text form.
    if isinstance(actual, str) and not isinstance(expected, str):
        return actual == str(expected).lower() if isinstance(expected, bool) else actual == str(expected)
    return actual == expected
