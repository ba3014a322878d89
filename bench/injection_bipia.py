"""Detector recall and false-positive rate on BIPIA's TEST split (`python -m bench.injection_bipia`).

BIPIA's construction (bipia/data/ in microsoft/BIPIA): one attack instruction inserted into a clean
context at its start, its middle (between two sentences) or its end; the clean context is the
negative. Text attacks go into email contexts, code attacks into code-help contexts, as in BIPIA.
Every context is treated as one untrusted tool output. Nothing here was seen while training
(bench/train_injection.py reads the train split only).
"""

import argparse
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trailcheck.checks.injection import find_injection

BIPIA = Path(__file__).resolve().parents[1] / "tests" / "conformance" / "injection-bipia"
POSITIONS = ("start", "middle", "end")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def insert(context: str, attack: str, position: str) -> str:
    """`attack` placed in `context` at `position` (start, middle or end), as BIPIA builds its data."""
    if position == "start":
        return f"{attack}\n{context}"
    if position == "end":
        return f"{context}\n{attack}"
    parts = _SENTENCE_END.split(context)
    middle = len(parts) // 2
    return " ".join([*parts[:middle], attack, *parts[middle:]])


def test_contexts(folder: Path) -> dict[str, list[str]]:
    """The TEST contexts by kind: email (text attacks) and code (code attacks)."""
    emails = [
        json.loads(x)["context"] for x in (folder / "email" / "test.jsonl").read_text().splitlines() if x
    ]
    code = []
    for line in (folder / "code" / "test.jsonl").read_text().splitlines():
        if line:
            context = json.loads(line)["context"]
            code.append("\n".join(context) if isinstance(context, list) else context)
    return {"email": emails, "code": code}


def test_attacks(folder: Path) -> dict[str, dict[str, list[str]]]:
    """The TEST attacks by context kind, then by family."""
    return {
        "email": json.loads((folder / "text_attack_test.json").read_text()),
        "code": json.loads((folder / "code_attack_test.json").read_text()),
    }


@dataclass
class Figures:
    """Counts of flagged over total, per attack family, per position, and on the clean contexts."""

    by_family: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_position: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    clean: list[int] = field(default_factory=lambda: [0, 0])
    clean_by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    missed: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Flagged injected contexts over all injected contexts."""
        hit = sum(v[0] for v in self.by_position.values())
        return hit / sum(v[1] for v in self.by_position.values())

    @property
    def fpr(self) -> float:
        """Flagged clean contexts over all clean contexts."""
        return self.clean[0] / self.clean[1]


def measure(folder: Path = BIPIA, detect: Callable[[str], object] = find_injection) -> Figures:
    """Run `detect` on every poisoned and every clean TEST context."""
    figures = Figures()
    contexts = test_contexts(folder)
    for kind, families in test_attacks(folder).items():
        for context in contexts[kind]:
            flagged = detect(context) is not None
            for tally in (figures.clean, figures.clean_by_kind[kind]):
                tally[0] += flagged
                tally[1] += 1
            if flagged:
                figures.false_alarms.append(context)
        for family, attacks in families.items():
            for attack in attacks:
                for context in contexts[kind]:
                    for position in POSITIONS:
                        hit = detect(insert(context, attack, position)) is not None
                        for tally in (figures.by_family[f"{kind}: {family}"], figures.by_position[position]):
                            tally[0] += hit
                            tally[1] += 1
                        if not hit:
                            figures.missed.append(attack)
    return figures


def main() -> None:
    """Print the figures as Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bipia", type=Path, default=BIPIA)
    parser.add_argument("--missed", action="store_true", help="list the attacks missed, most often first")
    args = parser.parse_args()
    f = measure(args.bipia)
    print(
        f"recall {f.recall:.4f}, false-positive rate {f.fpr:.4f} ({f.clean[0]}/{f.clean[1]} clean flagged)\n"
    )
    print("| clean contexts | flagged |\n|---|---|")
    for name, (hit, total) in f.clean_by_kind.items():
        print(f"| {name} | {hit}/{total} |")
    print("\n| attack family | recall |\n|---|---|")
    for name, (hit, total) in f.by_family.items():
        print(f"| {name} | {hit / total:.3f} ({hit}/{total}) |")
    print("\n| position | recall |\n|---|---|")
    for name, (hit, total) in f.by_position.items():
        print(f"| {name} | {hit / total:.3f} ({hit}/{total}) |")
    if args.missed:
        counts: dict[str, int] = defaultdict(int)
        for attack in f.missed:
            counts[attack[:100]] += 1
        for attack, n in sorted(counts.items(), key=lambda kv: -kv[1])[:40]:
            print(n, repr(attack))
        for context in f.false_alarms:
            print("FALSE ALARM", find_injection(context))


if __name__ == "__main__":
    main()
