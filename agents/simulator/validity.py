"""Checks of the simulated user itself: a trial whose user misbehaved says nothing about the agent.

A message that tells a fact marked `when_asked` before the agent asked for it (a leak), or that
has nothing to do with the goal (no goal word, no fact, not a confirmation), makes the trial
simulator-invalid: errored with the reason, never counted as the agent's failure.
"""

import re

from trailcheck.agents.simulator._reading import asks_for, asks_to_confirm, goal_words
from trailcheck.agents.simulator.base import SimulatedTurn, Transcript
from trailcheck.models.simulated_user import Disclosure, SimulatedUser

_SMALL_TALK = re.compile(
    r"^\s*(?:yes|no|ok|okay|sure|thanks?|thank you|great|fine|hello|hi|bye)\b", re.IGNORECASE
)
_WORD = re.compile(r"[a-z0-9]+")


def invalid_turn(spec: SimulatedUser, transcript: Transcript, turn: SimulatedTurn) -> str | None:
    """Why `turn`, said after `transcript`, is not what this simulated user may say; None when fine."""
    text = turn.content.casefold()
    for fact in spec.facts:
        if fact.disclose is not Disclosure.WHEN_ASKED:
            continue
        values = [fact.value] + ([fact.wrong_first] if fact.wrong_first else [])
        if any(v.casefold() in text for v in values) and not any(
            asks_for(reply, fact) for reply in transcript.agent_replies
        ):
            return f"leaked {fact.name} before the agent asked for it"
    if _on_goal(spec, transcript, turn.content):
        return None
    return f"went off-goal: {turn.content[:80]!r} shares nothing with the goal or the facts"


def _on_goal(spec: SimulatedUser, transcript: Transcript, text: str) -> bool:
    folded = text.casefold()
    values = [f.value for f in spec.facts] + [f.wrong_first for f in spec.facts if f.wrong_first]
    if any(v.casefold() in folded for v in values) or _SMALL_TALK.search(text):
        return True
    reply = transcript.last_agent_reply
    if reply is not None and asks_to_confirm(reply):
        return True
    return bool(set(_WORD.findall(folded)) & goal_words(spec))
