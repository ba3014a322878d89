"""The deterministic simulated user: patterns and slot names instead of a model, seeded wording.

It answers a question about a fact from the facts it knows (a wrong value first when the fact
says so, corrected on the next turn), confirms when asked to, nudges when a reply does not move
the goal forward, and gives up after `give_up_after` such replies in a row. The seed picks the
wording, so trials with different seeds are different conversations and the same seed is the
same conversation.
"""

import random

from trailcheck.agents.simulator._reading import asks_for, asks_to_confirm, label
from trailcheck.agents.simulator.base import SimulatedTurn, SimulatorStop, Transcript
from trailcheck.agents.simulator.stopping import stop_before_turn
from trailcheck.models.simulated_user import Disclosure, Persona, SimulatedFact, SimulatedUser, StopReason

_OPENERS: dict[Persona, tuple[str, ...]] = {
    Persona.TERSE: ("", "Hi. "),
    Persona.VERBOSE: (
        "Hello, I hope you can help me with something. ",
        "Good morning! Thank you for being there, I have a problem I would like to sort out. ",
    ),
    Persona.IMPATIENT: ("I don't have much time. ", "Quickly please: "),
    Persona.NON_NATIVE: ("Hello, I am having problem. ", "Good day, please help. "),
}
_ANSWERS: dict[Persona, tuple[str, ...]] = {
    Persona.TERSE: ("{value}.", "It's {value}."),
    Persona.VERBOSE: ("Of course, my {label} is {value}.", "Sure, the {label} is {value}, I have it here."),
    Persona.IMPATIENT: ("{value}. Can we get on with it?", "It's {value}, as I said I want this done."),
    Persona.NON_NATIVE: ("The {label} is {value}.", "Is {value}, the {label}."),
}
_CORRECTIONS = (
    "Sorry, I gave you the wrong {label}: it is {value}.",
    "Wait, my mistake, the right {label} is {value}.",
)
_CONFIRMS: dict[Persona, tuple[str, ...]] = {
    Persona.TERSE: ("Yes.", "Yes, go ahead."),
    Persona.VERBOSE: (
        "Yes, please go ahead, that is exactly what I would like.",
        "Yes, thank you, please do.",
    ),
    Persona.IMPATIENT: ("Yes, just do it.", "Yes. Go."),
    Persona.NON_NATIVE: ("Yes, please do this.", "Yes, is correct."),
}
_NUDGES: dict[Persona, tuple[str, ...]] = {
    Persona.TERSE: ("{goal}", "Again: {goal}"),
    Persona.VERBOSE: (
        "I am sorry, I think we misunderstood each other. {goal}",
        "Let me say it again: {goal}",
    ),
    Persona.IMPATIENT: ("That doesn't help. {goal}", "No. {goal} Now, please."),
    Persona.NON_NATIVE: ("I not understand. {goal}", "Please, {goal}"),
}


class RuleSimulator:
    """A simulated user driven by rules; no network, reproducible for a seed."""

    def __init__(self, spec: SimulatedUser, seed: int) -> None:
        self.spec = spec
        self.seed = seed
        self._rng = random.Random(seed)
        self._sent = 0
        self._unhelpful = 0
        self._told_wrong: set[str] = set()
        self._correction_due: list[SimulatedFact] = []

    def _pick(self, options: tuple[str, ...]) -> str:
        return options[self._rng.randrange(len(options))]

    async def next_turn(self, transcript: Transcript) -> SimulatedTurn | SimulatorStop:
        reply = transcript.last_agent_reply
        if not any(speaker == "user" for speaker, _ in transcript.messages):
            return self._send(self._opening(), "opens with the goal and the facts it tells upfront")
        stop = stop_before_turn(self.spec, transcript, self._sent)
        if stop is not None:
            return stop
        if self._correction_due:
            fact = self._correction_due.pop(0)
            text = self._pick(_CORRECTIONS).format(label=label(fact), value=fact.value)
            return self._send(text, f"corrects the wrong {fact.name} it gave first")
        asked = [f for f in self.spec.facts if reply is not None and asks_for(reply, f)]
        if asked:
            self._unhelpful = 0
            return self._answer(asked)
        if reply is not None and asks_to_confirm(reply):
            self._unhelpful = 0
            return self._send(self._pick(_CONFIRMS[self.spec.persona]), "confirms what the agent proposed")
        self._unhelpful += 1
        if self._unhelpful >= self.spec.give_up_after:
            return SimulatorStop(
                StopReason.GAVE_UP, f"{self._unhelpful} replies in a row did not move the goal forward"
            )
        text = self._pick(_NUDGES[self.spec.persona]).format(goal=self.spec.goal)
        return self._send(
            text, f"the reply did not move the goal forward ({self._unhelpful}/{self.spec.give_up_after})"
        )

    def _opening(self) -> str:
        upfront = [f for f in self.spec.facts if f.disclose is Disclosure.UPFRONT]
        told = " ".join(f"My {label(f)} is {f.value}." for f in upfront)
        return f"{self._pick(_OPENERS[self.spec.persona])}{self.spec.goal} {told}".strip()

    def _answer(self, asked: list[SimulatedFact]) -> SimulatedTurn:
        parts, reasons = [], []
        for fact in asked:
            value = fact.value
            if fact.wrong_first and fact.name not in self._told_wrong:
                self._told_wrong.add(fact.name)
                self._correction_due.append(fact)
                value = fact.wrong_first
                reasons.append(f"gives a wrong {fact.name} first, as told")
            else:
                reasons.append(f"answers the agent's question about {fact.name}")
            parts.append(self._pick(_ANSWERS[self.spec.persona]).format(label=label(fact), value=value))
        return self._send(" ".join(parts), "; ".join(reasons))

    def _send(self, text: str, reason: str) -> SimulatedTurn:
        self._sent += 1
        return SimulatedTurn(content=text, reason=reason)

    async def aclose(self) -> None:
        """Nothing to release."""
