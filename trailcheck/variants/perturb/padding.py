"""Irrelevant padding: chatter around the request. The request and its right answer do not change."""

import random
from dataclasses import dataclass

from trailcheck.models import Case, Variant
from trailcheck.variants.perturb._base import derive

CHATTER = (
    "Hope your day is going well.",
    "Sorry, I'm typing this on my phone on the bus.",
    "My cat just walked across the keyboard, so bear with me.",
    "Lovely weather we're having, isn't it?",
    "I've shopped with you for years and it's usually great.",
    "I'm in a bit of a rush, I have to collect the kids from school soon.",
    "My neighbour recommended your shop to me last spring.",
    "We're redecorating the kitchen at the moment, it's chaos here.",
    "I tried the chat yesterday too but my phone died halfway through.",
    "By the way, your website looks much nicer since the update.",
    "It's my sister's birthday next week, so I've been shopping a lot.",
    "Apologies if this is the wrong place to ask.",
    "I'm writing from work, so I might reply slowly.",
    "The delivery driver was very friendly, for what it's worth.",
)


@dataclass
class Padding:
    """One to three sentences of chatter before and/or after a user turn's request; same expectations."""

    kind: str = "padding"
    fixed_count: int | None = None

    def derive(self, case: Case, rng: random.Random, index: int) -> Variant | None:
        turns = [t.content for t in case.turns]
        which = rng.randrange(len(turns))
        before = rng.sample(CHATTER, k=rng.randint(0, 2))
        after = rng.sample([c for c in CHATTER if c not in before], k=rng.randint(0 if before else 1, 1))
        turns[which] = " ".join([*before, turns[which], *after])
        note = (
            f"{len(before) + len(after)} sentence(s) of chatter around turn {which + 1}; "
            "the request is unchanged, so the expectations are the original's"
        )
        return derive(
            case, kind=self.kind, label="padding", index=index, turns=turns,
            expectations=case.expectations, note=note,
        )  # fmt: skip
