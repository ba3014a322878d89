"""Missing details: the order number or the amount is left out, so the agent must ask, not guess.

The derived expectations change: no call of a tool that needed the removed detail (the
original case's expected calls say which tools used it), and a final answer that asks for it.
"""

import random
import re
from collections.abc import Callable
from dataclasses import dataclass

from trailcheck.models import ArgMatcher, Case, FailureCategory, FinalAnswerExpectation, Variant
from trailcheck.variants.perturb._base import AMOUNT, IDENTIFIER, derive, planned_calls, union

# "my order A1001", "order number A1001", "order #A1001", "A1001": the whole phrase becomes "my order".
_ID_PHRASE = (
    r"(?:\bmy\s+)?(?:\b(?P<noun>order|account|customer|booking|ticket)(?:\s+(?:number|no\.?|id))?\s*#?\s*)?"
)
_AMOUNT_PHRASE = re.compile(AMOUNT.pattern + r"(?P<prep>\s+(?:on|for|of|from)\b)?")
ASK_FOR_AMOUNT = r"\b(how much|what amount|which amount|the amount)\b"


def _ask_for(noun: str) -> str:
    """A regex for an answer that asks which <noun> (or for its number)."""
    return rf"\b(which|what)\b[^.?!]*\b{noun}\b|\b{noun}\s+(number|no\.?|id|#)"


def _matches_value(matcher: ArgMatcher, value: str | float) -> bool:
    """Whether an expected argument pinned this value (so the call needed the removed detail)."""
    match matcher.kind:
        case "exact":
            return matcher.exact == value or str(matcher.exact).upper() == str(value).upper()
        case "one_of":
            return value in (matcher.one_of or [])
        case "regex":
            return isinstance(value, str) and re.search(matcher.regex or "", value) is not None
        case "range":
            return isinstance(value, float) and matcher.min is not None and matcher.min == matcher.max
    return False


def _tools_needing(case: Case, value: str | float, arg_test: Callable[[str], bool]) -> list[str]:
    return [
        spec.name
        for spec in planned_calls(case)
        if any(arg_test(name) and _matches_value(m, value) for name, m in spec.args.items())
        or (isinstance(value, float) and any(arg_test(n) and m.kind == "range" for n, m in spec.args.items()))
    ]


@dataclass
class MissingDetail:
    """Variant 1 removes the identifiers (order numbers), variant 2 the amounts; only where there are any."""

    kind: str = "missing-detail"
    fixed_count: int | None = 2  # the ids, then the amounts: nothing random to vary

    def derive(self, case: Case, rng: random.Random, index: int) -> Variant | None:
        texts = [t.content for t in case.turns]
        if index == 1:
            return self._without_id(case, texts)
        if index == 2:
            return self._without_amount(case, texts)
        return None

    def _without_id(self, case: Case, texts: list[str]) -> Variant | None:
        ids = list(dict.fromkeys(m.group() for t in texts for m in IDENTIFIER.finditer(t)))
        if not ids:
            return None
        nouns = [m.group("noun") for t in texts for m in re.finditer(_ID_PHRASE + IDENTIFIER.pattern, t)]
        noun = next((n.lower() for n in nouns if n), "order")
        phrase = re.compile(_ID_PHRASE + "(?:" + "|".join(re.escape(i) for i in ids) + r")\b", re.IGNORECASE)
        turns = [phrase.sub(f"my {noun}", t) for t in texts]
        needing = union(*(_tools_needing(case, i, lambda _: True) for i in ids))
        exp = case.expectations.model_copy(
            update={
                "tool_calls": None,
                "state": [],  # the expected outcome went with the expected path
                "never_call": union(case.expectations.never_call, needing),
                "final_answer": FinalAnswerExpectation(regex=_ask_for(noun)),
                "escalate": False if case.expectations.escalate is False else None,
            }
        )
        note = (
            f"removed {', '.join(ids)}: the agent must ask which {noun}, and never call "
            f"{', '.join(needing) or 'a tool with a guessed id'}"
        )
        return derive(
            case, kind=self.kind, label="missing-id", index=1, turns=turns, expectations=exp, note=note,
            failure_category=FailureCategory.GOAL_MISALIGNMENT,
        )  # fmt: skip

    def _without_amount(self, case: Case, texts: list[str]) -> Variant | None:
        amounts = [m.group() for t in texts for m in AMOUNT.finditer(t)]
        if not amounts:
            return None

        def vague(m: re.Match[str]) -> str:
            return "part of the price of" if m.group("prep") else "part of the price"

        turns = [_AMOUNT_PHRASE.sub(vague, t) for t in texts]
        values = [float(re.sub(r"[^\d.]", "", a.replace(",", "."))) for a in amounts]
        needing = union(*(_tools_needing(case, v, lambda n: "amount" in n) for v in values))
        exp = case.expectations.model_copy(
            update={
                "tool_calls": None,
                "state": [],  # the expected outcome went with the expected path
                "never_call": union(case.expectations.never_call, needing),
                "final_answer": FinalAnswerExpectation(regex=ASK_FOR_AMOUNT),
                "escalate": False if case.expectations.escalate is False else None,
            }
        )
        note = (
            f"replaced {', '.join(amounts)} with 'part of the price': the agent must ask how much, and never "
            f"call {', '.join(needing) or 'a tool with a guessed amount'}"
        )
        return derive(
            case, kind=self.kind, label="missing-amount", index=2, turns=turns, expectations=exp, note=note,
            failure_category=FailureCategory.GOAL_MISALIGNMENT,
        )  # fmt: skip
