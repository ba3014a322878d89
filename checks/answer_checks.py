"""Checks on what the agent finally told the user, and whether it handed over to a human."""

import json
import re
from dataclasses import dataclass

import jsonschema

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.models import FailureCategory, FinalAnswerExpectation, Verdict


def _excerpt(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class FinalAnswer:
    """The final answer contains / does not contain text, matches a regex, or is JSON of a schema."""

    expectation: FinalAnswerExpectation
    name: str = "final_answer"
    failure_category: FailureCategory = FailureCategory.QUALITY_DEGRADATION

    def evaluate(self, ctx: CheckContext) -> Verdict:
        answer = ctx.trajectory.final_answer
        if answer is None:
            return failed(self.name, "the agent gave no final answer", self.failure_category)
        problem = self._problem(answer)
        if problem:
            return failed(self.name, f"{problem} in {_excerpt(answer)!r}", self.failure_category)
        return passed(self.name)

    def _problem(self, answer: str) -> str | None:
        exp = self.expectation
        fold = (lambda s: s) if exp.case_sensitive else str.casefold
        haystack = fold(answer)
        for needle in exp.contains:
            if fold(needle) not in haystack:
                return f"expected {needle!r}"
        for needle in exp.not_contains:
            if fold(needle) in haystack:
                return f"must not say {needle!r}"
        flags = 0 if exp.case_sensitive else re.IGNORECASE
        if exp.regex is not None and not re.search(exp.regex, answer, flags):
            return f"no match for /{exp.regex}/"
        if exp.json_schema is not None:
            return _json_problem(answer, exp.json_schema)
        return None


def _json_problem(answer: str, schema: dict) -> str | None:
    try:
        document = json.loads(answer)
    except json.JSONDecodeError as exc:
        return f"not JSON ({exc.msg} at char {exc.pos})"
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(document))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"JSON at {where}: {error.message}"


@dataclass
class Escalation:
    """The agent must (or must not) hand the conversation to a human."""

    required: bool
    name: str = "escalation"
    failure_category: FailureCategory = FailureCategory.GOAL_MISALIGNMENT

    def evaluate(self, ctx: CheckContext) -> Verdict:
        if ctx.trajectory.escalated == self.required:
            return passed(self.name)
        reason = "expected a handover to a human, none happened" if self.required else "escalated needlessly"
        return failed(self.name, reason, self.failure_category)
