"""Filler turns: the small talk and shop questions that fill a long support session.

Fillers are neutral by construction: no identifiers, no amounts and no request for an action
(refunds, accounts, handovers), so they never change what the right answer to the probe is.
Only what the agent must remember from turn 1 is tested. Same seed and count: same fillers.
"""

import random
import re

_SLOTS: dict[str, tuple[str, ...]] = {
    "country": ("Canada", "Ireland", "Norway", "Portugal", "Japan", "New Zealand"),
    "day": ("Saturdays", "Sundays", "bank holidays", "Christmas Eve"),
    "product": (
        "teapot",
        "kettle",
        "large mug",
        "coaster set",
        "tea towel",
        "butter dish",
        "cake stand",
        "milk jug",
    ),
    "colour": ("blue", "sage green", "mustard yellow", "charcoal", "cream"),
    "speed": ("standard", "express", "next-day"),
    "method": ("PayPal", "Apple Pay", "a gift card", "a bank transfer"),
    "city": ("Leeds", "Bristol", "Glasgow", "Cardiff", "Norwich"),
    "material": ("ceramics", "glassware", "electrical items", "linen"),
}
_TEMPLATES = (
    "Do you ship to {country}?",
    "What are your opening hours on {day}?",
    "Is the {product} dishwasher safe?",
    "Does the {product} come in {colour}?",
    "How long does {speed} delivery usually take?",
    "Can I pay with {method}?",
    "Do you have a shop in {city}?",
    "Is there a warranty on {material}?",
    "Do you offer gift wrapping for the {product}?",
    "Is the {product} suitable for an induction hob?",
    "What is the {product} made from?",
    "Do you restock the {colour} {product} often?",
    "Are there any discounts for students?",
    "Do you have a newsletter I can sign up to?",
    "How should I clean the {product}?",
    "Can I collect from your {city} shop?",
    "Thanks, that's useful to know.",
    "Great, good to know.",
    "Do you sell matching sets with the {product}?",
    "Is {speed} delivery available to {country}?",
)
_SLOT = re.compile(r"\{(\w+)\}")


def _all_fillers() -> list[str]:
    """Every template with every slot value (a few hundred distinct turns)."""
    out: list[str] = []
    for template in _TEMPLATES:
        variants = [template]
        for slot in _SLOT.findall(template):
            variants = [v.replace("{" + slot + "}", value, 1) for v in variants for value in _SLOTS[slot]]
        out += variants
    return out


FILLERS = tuple(_all_fillers())


def filler_turns(n: int, seed: int = 0) -> list[str]:
    """`n` filler turns, varied (no repeats until the pool is used up) and deterministic for a seed."""
    if n < 0:
        raise ValueError(f"the number of filler turns must be at least 0, got {n}")
    rng = random.Random(f"trailcheck-fillers/{seed}")
    out: list[str] = []
    while len(out) < n:
        pool = list(FILLERS)
        rng.shuffle(pool)
        out += pool[: n - len(out)]
    return out
