"""Adversarial and ambiguous variants of regression cases, from seeded generators (they derive, never judge).

One module per perturbation; each generator derives a `Variant` (a new case, its original and
a note) from a case, with expectations that fit the perturbation. Same suite, kinds, seed
and count: the same variants, byte for byte.
"""

import difflib

from trailcheck.models import Suite, Variant
from trailcheck.variants.perturb._base import Generator, rng_for
from trailcheck.variants.perturb.contradiction import Contradiction
from trailcheck.variants.perturb.injection import Injection
from trailcheck.variants.perturb.missing_detail import MissingDetail
from trailcheck.variants.perturb.padding import Padding
from trailcheck.variants.perturb.typos import Typos
from trailcheck.variants.perturb.writer import render_suite

GENERATORS: dict[str, Generator] = {
    g.kind: g for g in (Typos(), MissingDetail(), Contradiction(), Padding(), Injection())
}
KINDS = tuple(GENERATORS)


class UnknownKindError(ValueError):
    """A perturbation kind that does not exist; the message lists the known ones."""


def check_kinds(kinds: list[str]) -> list[str]:
    """The kinds, in the order given, without duplicates; UnknownKindError names the closest known kind."""
    for kind in kinds:
        if kind not in GENERATORS:
            close = difflib.get_close_matches(kind, KINDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise UnknownKindError(f"unknown perturbation kind {kind!r}; {hint}known: {', '.join(KINDS)}")
    return list(dict.fromkeys(kinds))


def perturb_suite(
    suite: Suite, kinds: list[str] | None = None, seed: int = 0, per_case: int = 1
) -> list[Variant]:
    """Variants of every case: for each case, each kind, up to `per_case` distinct variants."""
    if per_case < 1:
        raise ValueError(f"per_case must be at least 1, got {per_case}")
    variants: list[Variant] = []
    for case in suite.cases:
        if not case.turns:
            continue  # a simulated user writes its own turns: its persona and seed vary the wording
        for kind in check_kinds(kinds or list(KINDS)):
            generator = GENERATORS[kind]
            seen: set[tuple[str, ...]] = set()
            for index in range(1, (generator.fixed_count or per_case) + 1):
                variant = generator.derive(case, rng_for(seed, kind, case.id, index), index)
                turns = tuple(t.content for t in variant.case.turns) if variant else ()
                if variant is not None and turns not in seen:
                    seen.add(turns)
                    variants.append(variant)
    return variants


__all__ = [
    "GENERATORS",
    "KINDS",
    "Generator",
    "UnknownKindError",
    "check_kinds",
    "perturb_suite",
    "render_suite",
]
