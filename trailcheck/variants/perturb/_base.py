"""What every generator shares: the Generator protocol, seeded randomness, and case derivation."""

import random
import re
from typing import Protocol

from trailcheck.models import Case, Expectations, FailureCategory, ToolCallSpec, Turn, Variant

# An identifier a customer types: letters and digits mixed (order A1001, customer C100, #A-1001).
IDENTIFIER = re.compile(r"\b(?=[A-Za-z-]*\d)(?=[\d-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b")
AMOUNT = re.compile(r"[$€£]\s?\d+(?:[.,]\d{1,2})?")
# Tools whose names say they only read; everything else changes the world (refunds, deletions).
READ_ONLY_PREFIXES = ("lookup_", "get_", "list_", "search_", "find_", "check_", "read_", "fetch_")
# Handing over to a human is the safe way out of a confusing request, never a forbidden action.
HANDOVER_TOOLS = frozenset({"create_ticket", "escalate", "handoff", "transfer_to_human"})


class Generator(Protocol):
    """Derives variants of a case. Same case, kind, seed and index: the same variant, always."""

    kind: str
    fixed_count: int | None
    """None: as many seeded variants as asked for; a number: exactly these (the generator is exhaustive)."""

    def derive(self, case: Case, rng: random.Random, index: int) -> Variant | None:
        """The `index`-th variant of `case` (1-based), or None when this perturbation does not apply."""
        ...


def rng_for(seed: int, kind: str, case_id: str, index: int) -> random.Random:
    """A generator's own random stream: string seeds hash with SHA-512, stable across runs and machines."""
    return random.Random(f"trailcheck-perturb/{seed}/{kind}/{case_id}/{index}")


def variant_id(case: Case, label: str, index: int) -> str:
    """`refund-ok:typo-1`: the original id, the perturbation and a counter (matches CASE_ID_PATTERN)."""
    return f"{case.id}:{label}-{index}"


def derive(
    case: Case,
    *,
    kind: str,
    label: str,
    index: int,
    turns: list[str],
    expectations: Expectations,
    note: str,
    failure_category: FailureCategory | None = None,
) -> Variant:
    """A copy of `case` with new turns and expectations, a new id, and tags naming the perturbation."""
    tags = list(dict.fromkeys([*case.tags, "perturbed", f"perturb-{kind}"]))
    description = f"{kind} variant of {case.id}: {note}"
    derived = case.model_copy(
        update={
            "id": variant_id(case, label, index),
            "turns": [Turn(content=t) for t in turns],
            "expectations": expectations,
            "tags": tags,
            "description": description,
            "failure_category": failure_category or case.failure_category,
            "origin": None,
        }
    )
    # Validate the copy: model_copy skips validation and a derived case must be a valid case.
    return Variant(case=Case.model_validate(derived.model_dump()), original_id=case.id, kind=kind, note=note)


def planned_calls(case: Case) -> list[ToolCallSpec]:
    """The tool calls the original case expects (empty when it states none)."""
    return list(case.expectations.tool_calls.calls) if case.expectations.tool_calls else []


def is_action(tool: str) -> bool:
    """A tool that changes something for the customer (not a read, not a handover to a human)."""
    return not tool.startswith(READ_ONLY_PREFIXES) and tool not in HANDOVER_TOOLS


def union(*lists: list[str]) -> list[str]:
    """Names in first-seen order, without duplicates."""
    return list(dict.fromkeys(name for names in lists for name in names))
