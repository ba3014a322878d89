"""Train the injection detector's sentence model (`python -m bench.train_injection`), build time only.

Positives: the prose of BIPIA's TRAIN attack instructions (text and code families; code blocks are
cut out, since code alone is not an instruction). Negatives: the sentences of BIPIA's TRAIN email
contexts, and clean English prose and code commentary that ships with Python itself (the stdlib's
docstrings and `pydoc_data.topics`, full of imperatives written to a reader: "Return the ...",
"Use this ..."). The test split is never read here; tests/test_injection_bipia.py measures on it.

A logistic regression (L2, classes balanced) fitted with scipy's L-BFGS; the threshold is the
lowest score that keeps every TRAIN email context clean with a margin. Writes
trailcheck/checks/injection_weights.json (features whose weight matters, rounded).
"""

import argparse
import importlib
import inspect
import json
import random
import re
import sysconfig
from pathlib import Path

import numpy as np
from scipy import optimize, sparse

from trailcheck.checks.injection import WEIGHTS_FILE, sentence_features, sentences

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


def package_docs() -> list[str]:
    """The long descriptions of the installed packages (READMEs: "add this to your code"), in chunks."""
    found: list[str] = []
    for meta in sorted(Path(sysconfig.get_paths()["purelib"]).glob("*.dist-info/METADATA")):
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


def _score(weights: dict[str, float], sentence: str) -> float:
    return sum(weights.get(f, 0.0) for f in sentence_features(sentence))


def _worst(weights: dict[str, float], text: str) -> float:
    return max((_score(weights, s) for s in sentences(text)), default=-1e9)


def train(
    families: list[list[str]], clean: list[str], l2: float, quantile: float
) -> tuple[dict[str, float], float]:
    """Fit `families` against the sentences of `clean`; the threshold leaves `quantile` of `clean` clean."""
    pos = [s for family in families for s in family]
    neg = [s for text in clean for s in sentences(text)]
    weights, _ = fit(pos, neg, l2)
    worst = sorted(_worst(weights, text) for text in clean)
    threshold = worst[min(len(worst) - 1, int(quantile * len(worst)))] + 0.01
    return weights, round(threshold, 4)


def cross_validate(
    families: list[list[str]], clean: list[str], l2: float, quantile: float, folds: int = 5
) -> tuple[float, float]:
    """Recall on held-out attack FAMILIES and false alarms on held-out clean texts, averaged over folds."""
    hits = total = alarms = negatives = 0
    for k in range(folds):
        weights, threshold = train(
            [f for i, f in enumerate(families) if i % folds != k],
            [c for i, c in enumerate(clean) if i % folds != k],
            l2,
            quantile,
        )
        for family in (f for i, f in enumerate(families) if i % folds == k):
            for sentence in family:
                hits += _score(weights, sentence) >= threshold
                total += 1
        for text in (c for i, c in enumerate(clean) if i % folds == k):
            alarms += _worst(weights, text) >= threshold
            negatives += 1
    return hits / total, alarms / negatives


def main() -> None:
    """Pick l2 and the threshold quantile by family-held-out cross-validation on TRAIN, fit, write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bipia", type=Path, default=BIPIA)
    parser.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    parser.add_argument("--max-fpr", type=float, default=0.015)
    args = parser.parse_args()
    families = attack_families(args.bipia)
    rng = random.Random(16)
    clean = email_contexts(args.bipia) + stdlib_docs() + package_docs()
    rng.shuffle(clean)
    rng.shuffle(families)
    best: tuple[float, float, float, float] | None = None
    for l2 in (0.3, 1.0, 3.0):
        for quantile in (0.99,):
            recall, fpr = cross_validate(families, clean, l2, quantile)
            print(f"l2={l2} quantile={quantile}: held-out recall {recall:.3f}, false alarms {fpr:.4f}")
            if fpr <= args.max_fpr and (best is None or recall > best[0]):
                best = (recall, fpr, l2, quantile)
    if best is None:
        raise SystemExit(f"no setting keeps held-out false alarms under {args.max_fpr}")
    recall, fpr, l2, quantile = best
    weights, threshold = train(families, clean, l2, quantile)
    args.out.write_text(
        json.dumps({"threshold": threshold, "weights": weights}, sort_keys=True, indent=0) + "\n"
    )
    print(f"chose l2={l2} quantile={quantile} (held-out recall {recall:.3f}, false alarms {fpr:.4f});")
    print(
        f"{sum(map(len, families))} attack sentences, {len(clean)} clean texts, {len(weights)} weights, "
        f"threshold {threshold}"
    )


if __name__ == "__main__":
    main()
