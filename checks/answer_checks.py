"""Checks on what the agent finally told the user, and whether it handed over to a human."""

import json
import re
from dataclasses import dataclass

import jsonschema

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.models import FailureCategory, FinalAnswerExpectation, ReplyScope, Verdict


def _excerpt(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class FinalAnswer:
    """The final answer contains / does not contain text, matches a regex, or is JSON of a schema.

    With `in: any_reply` each requirement may be met by any user-visible reply (and no reply may
    say a `not_contains` text); with `in: all_replies` every reply must meet them all.
    """

    expectation: FinalAnswerExpectation
    name: str = "final_answer"
    failure_category: FailureCategory = FailureCategory.QUALITY_DEGRADATION

    def evaluate(self, ctx: CheckContext) -> Verdict:
        scope = self.expectation.scope
        if scope is ReplyScope.LAST:
            answer = ctx.trajectory.final_answer
            if answer is None:
                return failed(self.name, "the agent gave no final answer", self.failure_category)
            problem = self._problem(answer)
            if problem:
                return failed(self.name, f"{problem} in {_excerpt(answer)!r}", self.failure_category)
            return passed(self.name)
        replies = [r.content for r in ctx.trajectory.replies]
        if not replies:
            return failed(self.name, "the agent sent the user no reply", self.failure_category)
        problem = self._problem_any(replies) if scope is ReplyScope.ANY_REPLY else self._problem_all(replies)
        return failed(self.name, problem, self.failure_category) if problem else passed(self.name)

    def _problem_all(self, replies: list[str]) -> str | None:
        for i, reply in enumerate(replies):
            problem = self._problem(reply)
            if problem:
                return f"reply {i + 1} of {len(replies)}: {problem} in {_excerpt(reply)!r}"
        return None

    def _problem_any(self, replies: list[str]) -> str | None:
        exp = self.expectation
        for needle in exp.contains:
            if not any(self._has(reply, needle) for reply in replies):
                return f"expected {needle!r} in one of the {len(replies)} replies; none says it"
        for i, reply in enumerate(replies):
            for needle in exp.not_contains:
                if self._has(reply, needle):
                    return f"reply {i + 1} says {needle!r}, which no reply may say"
        flags = 0 if exp.case_sensitive else re.IGNORECASE
        if exp.regex is not None and not any(re.search(exp.regex, r, flags) for r in replies):
            return f"no reply matches /{exp.regex}/"
        if exp.json_schema is not None:
            problems = [_json_problem(r, exp.json_schema) for r in replies]
            if all(problems):
                return f"no reply is valid JSON of the schema (last: {problems[-1]})"
        return None

    def _fold(self, text: str) -> str:
        exp = self.expectation
        if exp.normalize is not None:
            text = exp.normalize.apply(text)
        return text if exp.case_sensitive else text.casefold()

    def _has(self, reply: str, needle: str) -> bool:
        return self._fold(needle) in self._fold(reply)

    def _problem(self, answer: str) -> str | None:
        exp = self.expectation
        for needle in exp.contains:
            if not self._has(answer, needle):
                return f"expected {needle!r}"
        for needle in exp.not_contains:
            if self._has(answer, needle):
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
