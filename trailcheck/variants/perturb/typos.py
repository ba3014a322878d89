"""Typos and casing noise: what hurried customers type. The request and its right answer do not change.

Identifiers and amounts (order A1001, $20) are never touched: a typo in an order number is a
different order, which is the missing-detail perturbation's business, not this one's.
"""

import random
import re
from dataclasses import dataclass

from trailcheck.models import Case, Variant
from trailcheck.variants.perturb._base import derive

_WORD = re.compile(r"\b[A-Za-z]{4,}\b")
# Neighbours on a QWERTY keyboard, for the "fat finger" typo.
_NEIGHBOURS = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "wa", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}  # fmt: skip


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(word) - 1)  # keep the first and last letters, as real typos mostly do
    match rng.choice(("swap", "drop", "double", "neighbour")):
        case "swap":
            return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        case "drop":
            return word[:i] + word[i + 1 :]
        case "double":
            return word[:i] + word[i] + word[i:]
        case _:
            near = _NEIGHBOURS.get(word[i].lower(), word[i])
            return word[:i] + rng.choice(near) + word[i + 1 :]


def _casing(text: str, rng: random.Random) -> str:
    match rng.choice(("lower", "upper-word", "no-capitals")):
        case "lower":
            return _WORD.sub(lambda m: m.group().lower(), text)
        case "upper-word":
            words = list(_WORD.finditer(text))
            if not words:
                return text
            pick = rng.choice(words)
            return text[: pick.start()] + pick.group().upper() + text[pick.end() :]
        case _:
            return text[:1].lower() + text[1:]


def add_noise(text: str, rng: random.Random, rate: float = 0.2) -> tuple[str, int]:
    """`text` with typos in about `rate` of its longer words and some casing noise; (text, typos made)."""
    words = list(_WORD.finditer(text))
    if not words:
        return _casing(text, rng), 0
    chosen = rng.sample(words, k=max(1, round(len(words) * rate)))
    out, last = [], 0
    for match in sorted(chosen, key=lambda m: m.start()):
        out += [text[last : match.start()], _typo(match.group(), rng)]
        last = match.end()
    noisy = "".join([*out, text[last:]])
    return _casing(noisy, rng), len(chosen)


@dataclass
class Typos:
    """Typos in a fifth of the longer words of every user turn, plus casing noise; same expectations."""

    kind: str = "typo"
    rate: float = 0.2
    fixed_count: int | None = None

    def derive(self, case: Case, rng: random.Random, index: int) -> Variant | None:
        turns, made = [], 0
        for turn in case.turns:
            text, n = add_noise(turn.content, rng, self.rate)
            turns.append(text)
            made += n
        if turns == [t.content for t in case.turns]:
            return None
        note = (
            f"{made} typo(s) and casing noise; ids and amounts kept, so the expectations are the original's"
        )
        return derive(
            case, kind=self.kind, label="typo", index=index, turns=turns,
            expectations=case.expectations, note=note,
        )  # fmt: skip
