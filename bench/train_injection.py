"""Train the injection detector's sentence model (`python -m bench.train_injection`), build time only.

Positives: the prose of BIPIA's TRAIN attack instructions (text and code families; code blocks are
cut out, since code alone is not an instruction). Negatives: the sentences of BIPIA's TRAIN email
contexts, and clean English prose and code commentary that ships with Python itself (the stdlib's
docstrings and `pydoc_data.topics`, full of imperatives written to a reader: "Return the ...",
"Use this ...") and with the packages constraints.txt pins (their READMEs). The test split is
never read here; tests/test_injection_bipia.py measures on it.

A logistic regression (L2, classes balanced) fitted with scipy's L-BFGS. Two thresholds: the main
one, the lowest score that leaves a quantile of the clean texts unflagged, and a lower one for
sentences off the topic of their document (`off_topic` in checks/injection.py), which applies
only where the document has a topic (at most a share `max_scatter` of its other sentences off
topic too). The L2 weight, the quantile, the topic threshold and the scatter are chosen together
by cross-validation on TRAIN with whole attack families held out: each fold's attacks are
inserted into its held-out TRAIN emails at the start, middle and end (BIPIA's construction); its
held-out clean texts count false alarms, and so do digests made of them (five unrelated first
paragraphs, like a page of search results, where every sentence is off topic). The setting with
the best held-out recall whose false alarms stay under --max-fpr on both wins. Writes
checks/injection_weights.json (features whose weight matters, rounded). Deterministic for a given
Python version and the venv `make setup` builds.
"""

import argparse
import importlib
import inspect
import itertools
import json
import math
import random
import re
import sysconfig
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

from bench.injection_bipia import POSITIONS, insert
from trailcheck.checks.injection import (
    WEIGHTS_FILE,
    SentenceModel,
    off_topic,
    scatter,
    sentence_features,
    sentences,
)

BIPIA = Path(__file__).resolve().parents[1] / "tests" / "conformance" / "injection-bipia"
_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_STDLIB = (
    "os", "json", "shutil", "subprocess", "pathlib", "argparse", "logging", "email.message", "http.client",
    "urllib.request", "asyncio", "unittest", "csv", "sqlite3", "smtplib", "socket", "zipfile", "tarfile",
    "collections", "functools", "itertools", "datetime", "calendar", "textwrap", "string", "re", "typing",
)  # fmt: skip


def attack_families(folder: Path) -> list[list[str]]:
    """The prose sentences of each TRAIN attack, grouped by family (text and code)."""
    out = []
    for name in ("text_attack_train.json", "code_attack_train.json"):
        for family in json.loads((folder / name).read_text()).values():
            out.append([s for attack in family for s in sentences(_FENCE.sub("\n", attack)) or [attack]])
    return out


def raw_attacks(folder: Path) -> list[list[str]]:
    """The TRAIN attacks as written, grouped by family in the order of `attack_families`."""
    return [
        list(family)
        for name in ("text_attack_train.json", "code_attack_train.json")
        for family in json.loads((folder / name).read_text()).values()
    ]


def email_contexts(folder: Path) -> list[str]:
    """The TRAIN email contexts."""
    lines = (folder / "email" / "train.jsonl").read_text().splitlines()
    return [json.loads(line)["context"] for line in lines if line.strip()]


def stdlib_docs() -> list[str]:
    """Python's own docs and docstrings: clean prose full of imperatives addressed to a reader."""
    texts: list[str] = list(importlib.import_module("pydoc_data.topics").topics.values())
    for module_name in _STDLIB:
        module = importlib.import_module(module_name)
        texts.append(inspect.getdoc(module) or "")
        for _, member in inspect.getmembers(module):
            doc = inspect.getdoc(member) if callable(member) else None
            if doc:
                texts.append(doc)
    return [t for t in texts if sentences(t)]


def _pinned() -> set[str]:
    """The `name-version` of every package constraints.txt pins (what `make setup` installs)."""
    lines = (Path(__file__).resolve().parents[1] / "constraints.txt").read_text().splitlines()
    pins = (line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    return {f"{re.sub(r'[-_.]+', '_', name.strip()).lower()}-{version.strip()}" for name, version in pins}


def package_docs() -> list[str]:
    """The long descriptions of the pinned packages (READMEs: "add this to your code"), in chunks.

    Only packages at the version constraints.txt pins, so any venv `make setup` builds gives the
    same texts (a venv with extra packages or other versions does not change the training data).
    """
    pinned = _pinned()
    found: list[str] = []
    for meta in sorted(Path(sysconfig.get_paths()["purelib"]).glob("*.dist-info/METADATA")):
        name, _, version = meta.parent.name.removesuffix(".dist-info").partition("-")
        if f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}" not in pinned:
            continue
        text = meta.read_text(encoding="utf-8", errors="replace")
        body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        lines = body.splitlines()
        found.extend("\n".join(lines[i : i + 40]) for i in range(0, len(lines), 40))
    return [t for t in found if sentences(t)]


def fit(pos: list[str], neg: list[str], l2: float) -> tuple[dict[str, float], list[str]]:
    """Logistic regression on the features of `pos` (label 1) and `neg` (label 0)."""
    rows = [sentence_features(s) for s in pos + neg]
    counts: dict[str, int] = {}
    for feats in rows:
        for f in set(feats):
            counts[f] = counts.get(f, 0) + 1
    vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= 2 or f == "bias"))}
    data, ind, ptr = [], [], [0]
    for feats in rows:
        cols = sorted({vocab[f] for f in feats if f in vocab})
        ind.extend(cols)
        data.extend([1.0] * len(cols))
        ptr.append(len(ind))
    x = sparse.csr_matrix((data, ind, ptr), shape=(len(rows), len(vocab)))
    y = np.array([1.0] * len(pos) + [0.0] * len(neg))
    w_row = np.where(y == 1, len(y) / (2 * len(pos)), len(y) / (2 * len(neg)))
    # Shapes ("s:" features: opening task verb, a question) are few and general: penalised far less
    # than single words, so unseen wordings lean on them rather than on the words of 127 examples.
    penalty = np.array(
        [
            0.0 if f == "bias" else 0.05 if f.startswith("s:") else 1.0
            for f in sorted(vocab, key=vocab.__getitem__)
        ]
    )

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        p = 1 / (1 + np.exp(-z))
        eps = 1e-12
        ll = -np.sum(w_row * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))
        reg = w * penalty
        grad = x.T @ (w_row * (p - y)) + l2 * reg
        return float(ll + 0.5 * l2 * w @ reg), grad

    result = optimize.minimize(loss, np.zeros(len(vocab)), jac=True, method="L-BFGS-B")
    names = sorted(vocab, key=vocab.__getitem__)
    weights = {f: round(float(result.x[vocab[f]]), 4) for f in names if abs(result.x[vocab[f]]) >= 0.01}
    return weights, names


def _doc_scores(model: SentenceModel, text: str) -> tuple[float, float, float]:
    """A document's highest sentence score, its highest among off-topic sentences, and its scatter."""
    segments = sentences(text)
    scores = [model.score(s) for s in segments]
    flags = off_topic(segments)
    off = [sc for sc, o in zip(scores, flags, strict=True) if o]
    return max(scores, default=-math.inf), max(off, default=-math.inf), scatter(flags)


def train(families: list[list[str]], clean: list[str], l2: float) -> tuple[dict[str, float], list[float]]:
    """Fit `families` against the sentences of `clean`; also each clean text's highest score, sorted."""
    pos = [s for family in families for s in family]
    neg = [s for text in clean for s in sentences(text)]
    weights, _ = fit(pos, neg, l2)
    model = SentenceModel(weights=weights, threshold=math.inf)
    return weights, sorted(_doc_scores(model, text)[0] for text in clean)


def threshold_at(worst: list[float], quantile: float) -> float:
    """The lowest score that leaves `quantile` of the clean texts (their `worst` scores) unflagged."""
    return round(worst[min(len(worst) - 1, int(quantile * len(worst)))] + 0.01, 4)


def poisoned(attacks: list[str], emails: list[str]) -> list[str]:
    """Each attack inserted into each email at its start, middle and end, as BIPIA builds its data."""
    return [insert(email, attack, at) for attack in attacks for email in emails for at in POSITIONS]


Setting = tuple[float, float, float, float]  # l2, threshold quantile, topic threshold, max scatter


def digests(texts: list[str], rng: random.Random, n: int = 200, size: int = 5) -> list[str]:
    """Documents without one topic, like search results: the first paragraphs of `size` texts each."""
    heads = [t.split("\n\n")[0] for t in texts if sentences(t.split("\n\n")[0])]
    return ["\n".join(rng.sample(heads, size)) for _ in range(n)]


def cross_validate(
    families: list[list[str]],
    raw: list[list[str]],
    clean: list[str],
    emails: set[str],
    folds: int = 5,
) -> dict[Setting, tuple[float, float, float]]:
    """Held-out recall, false alarms on clean texts and on digests, of every setting, over folds.

    Each fold fits on the other attack families and clean texts, then inserts its own families'
    attacks into its own held-out TRAIN emails (BIPIA's construction), scores its held-out clean
    texts, and digests made of them (a digest has no topic, so nothing in it is off topic).
    """
    tally: dict[Setting, list[int]] = {}
    rng = random.Random(16)
    for k in range(folds):
        held_clean = [c for i, c in enumerate(clean) if i % folds == k]
        held_attacks = [a for i, family in enumerate(raw) if i % folds == k for a in family]
        held_emails = [c for c in held_clean if c in emails]
        held_digests = digests([c for c in held_clean if c not in emails], rng)
        for l2 in L2S:
            weights, worst = train(
                [f for i, f in enumerate(families) if i % folds != k],
                [c for i, c in enumerate(clean) if i % folds != k],
                l2,
            )
            model = SentenceModel(weights=weights, threshold=math.inf)
            sets = [
                [_doc_scores(model, t) for t in texts]
                for texts in (poisoned(held_attacks, held_emails), held_clean, held_digests)
            ]
            for quantile in QUANTILES:
                threshold = threshold_at(worst, quantile)
                for topic, most in itertools.product(TOPIC_THRESHOLDS, MAX_SCATTERS):
                    counts = tally.setdefault((l2, quantile, topic, most), [0] * 6)
                    for n, docs in enumerate(sets):
                        hits = (t >= threshold or (o >= topic and sc <= most) for t, o, sc in docs)
                        counts[2 * n] += sum(hits)
                        counts[2 * n + 1] += len(docs)
    return {s: (c[0] / c[1], c[2] / c[3], c[4] / c[5]) for s, c in tally.items()}


L2S = (0.3, 1.0, 3.0)
QUANTILES = (0.99, 0.995, 0.998)
TOPIC_THRESHOLDS = (math.inf, -2.0, -3.0, -4.0, -5.0, -6.0)
MAX_SCATTERS = (1.0, 0.5, 0.3)


def main() -> None:
    """Pick the setting by family-held-out cross-validation on TRAIN, fit on all of TRAIN, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bipia", type=Path, default=BIPIA)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--max-fpr", type=float, default=0.015, help="on held-out clean texts")
    parser.add_argument(
        "--max-fpr-digests", type=float, help="on held-out digests (default: --max-fpr; 1 ignores them)"
    )
    args = parser.parse_args()
    max_digests = args.max_fpr if args.max_fpr_digests is None else args.max_fpr_digests
    rng = random.Random(16)
    families, raw = attack_families(args.bipia), raw_attacks(args.bipia)
    order = list(range(len(families)))
    rng.shuffle(order)
    families, raw = [families[i] for i in order], [raw[i] for i in order]
    emails = email_contexts(args.bipia)
    clean = emails + stdlib_docs() + package_docs()
    rng.shuffle(clean)
    results = cross_validate(families, raw, clean, set(emails))
    for setting, (recall, fpr, fpr_digests) in sorted(results.items()):
        print(
            "l2={} quantile={} topic={} max scatter={}: ".format(*setting)
            + f"recall {recall:.3f}, false alarms {fpr:.4f}, on digests {fpr_digests:.4f}"
        )
    allowed = [(r[0], s) for s, r in results.items() if r[1] <= args.max_fpr and r[2] <= max_digests]
    if not allowed:
        raise SystemExit(f"no setting keeps held-out false alarms under {args.max_fpr} and {max_digests}")
    # Ties go to the stricter setting: the higher quantile and topic threshold, the lower scatter.
    _, best = max(allowed, key=lambda rs: (rs[0], rs[1][1], rs[1][2], -rs[1][3]))
    l2, quantile, topic, most = best
    weights, worst = train(families, clean, l2)
    threshold = threshold_at(worst, quantile)
    out = {"max_scatter": most, "threshold": threshold, "topic_threshold": topic, "weights": weights}
    args.out.write_text(json.dumps(out, sort_keys=True, indent=0) + "\n")
    recall, fpr, fpr_digests = results[best]
    print(
        f"chose l2={l2} quantile={quantile} topic={topic} max scatter={most}: recall {recall:.3f}, "
        f"false alarms {fpr:.4f}, on digests {fpr_digests:.4f};"
    )
    print(
        f"{sum(map(len, families))} attack sentences, {len(clean)} clean texts, {len(weights)} weights, "
        f"threshold {threshold}, topic threshold {topic}"
    )


if __name__ == "__main__":
    main()
