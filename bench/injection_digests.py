"""False alarms on documents without one topic (`python -m bench.injection_digests`).

A page of search results or a news digest is a row of unrelated snippets: every sentence in it is
off the topic of the others, so the off-topic layer of the injection detector must stay silent
there. Each digest joins the first paragraphs of five docstrings of standard-library modules that
training never reads (bench/train_injection.py reads other modules); nothing in them instructs.
`--weights` scores with another weights file (e.g. one written by `bench.train_injection --out`).
"""

import argparse
import functools
import importlib
import inspect
import random
from pathlib import Path

from trailcheck.checks import injection
from trailcheck.checks.injection import find_injection, load_model

MODULES = (
    "decimal", "fractions", "statistics", "heapq", "bisect", "xml.etree.ElementTree", "html.parser", "ftplib",
    "imaplib", "mailbox", "wave", "configparser", "difflib", "gettext", "locale", "netrc", "optparse", "pdb",
    "pickle", "platform", "pprint", "queue", "sched", "secrets", "selectors", "shelve", "shlex", "signal",
    "ssl", "stat", "struct", "tempfile", "threading", "timeit", "tokenize", "trace", "uuid", "weakref",
    "zlib",
)  # fmt: skip


def snippets() -> list[str]:
    """The first paragraph of every documented member of MODULES, of seven words or more."""
    found = []
    for name in MODULES:
        for _, member in inspect.getmembers(importlib.import_module(name)):
            doc = inspect.getdoc(member) if callable(member) else None
            head = doc.split("\n\n")[0].replace("\n", " ") if doc else ""
            if head.count(" ") >= 6:
                found.append(head)
    return found


def digests(n: int = 1000, size: int = 5, seed: int = 3) -> list[str]:
    """`n` digests of `size` snippets each, one snippet a line."""
    rng = random.Random(seed)
    pool = snippets()
    return ["\n".join(rng.sample(pool, size)) for _ in range(n)]


def main() -> None:
    """Print how many digests the detector flags, and the first few flagged sentences."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, help="a weights file instead of the shipped one")
    args = parser.parse_args()
    if args.weights:
        # find_injection reads the model through this module-level function.
        model = load_model(args.weights)
        injection.sentence_model = functools.cache(lambda: model)
    texts = digests()
    flagged = [f for f in map(find_injection, texts) if f is not None]
    print(f"{len(flagged)} of {len(texts)} digests flagged ({len(flagged) / len(texts):.1%})")
    for finding in flagged[:5]:
        print(f"  {finding.kind}: {finding.text[:100]!r}")


if __name__ == "__main__":
    main()
