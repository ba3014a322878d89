"""How a simulated user reads the agent: is this a question about a fact, a confirmation, the goal met?"""

import re

from trailcheck.models.simulated_user import SimulatedFact, SimulatedUser

_GENERIC = {"id", "number", "no", "code", "ref", "reference", "value"}
_ASKING = re.compile(
    r"\?|\b(?:please|kindly)\s+(?:give|provide|send|tell|share|confirm)\b|\b(?:what|which)\s+is\s+your\b",
    re.IGNORECASE,
)
_CONFIRMING = re.compile(
    r"\b(?:shall i|should i|do you want me to|would you like me to|can you confirm|please confirm|"
    r"is that (?:right|correct|ok)|ok to|okay to|go ahead)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = {
    "the", "and", "for", "with", "that", "this", "from", "have", "want", "need", "would", "like",
    "please", "my", "your", "you", "was", "are", "get", "can", "could", "about", "it", "its", "i",
}  # fmt: skip


def fact_nouns(fact: SimulatedFact) -> list[str]:
    """The words of a fact's name that say what it is (order_id -> order)."""
    words = [w for w in fact.name.lower().replace("-", "_").split("_") if w]
    nouns = [w for w in words if w not in _GENERIC]
    return nouns or words


def asks_for(reply: str, fact: SimulatedFact) -> bool:
    """Whether `reply` asks the user for `fact`: its own patterns, or a question naming the fact's noun."""
    if any(re.search(pattern, reply, re.IGNORECASE) for pattern in fact.asked_by):
        return True
    if not _ASKING.search(reply):
        return False
    return any(re.search(rf"\b{re.escape(noun)}s?\b", reply, re.IGNORECASE) for noun in fact_nouns(fact))


def asks_to_confirm(reply: str) -> bool:
    """Whether `reply` asks the user to confirm an action."""
    return bool(_CONFIRMING.search(reply)) and "?" in reply


def goal_met(spec: SimulatedUser, reply: str) -> str | None:
    """The done_when pattern `reply` matches, or None."""
    for pattern in spec.done_when:
        if re.search(pattern, reply, re.IGNORECASE):
            return pattern
    return None


def goal_words(spec: SimulatedUser) -> set[str]:
    """The content words of the goal (for the off-goal check)."""
    return {w for w in _WORD.findall(spec.goal.lower()) if len(w) > 2 and w not in _STOPWORDS}


def label(fact: SimulatedFact) -> str:
    """How a person names the fact: order_id -> order number."""
    nouns = fact_nouns(fact)
    generic = [w for w in fact.name.lower().split("_") if w in _GENERIC]
    return " ".join(nouns) + (" number" if generic else "")
