"""`trailcheck perturb SUITE --out FILE`: write adversarial and ambiguous variants of a suite's cases."""

import shlex
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from trailcheck.checks.suite_check import load_checked_suite
from trailcheck.cli._support import fail, out
from trailcheck.loading.suite import SuiteError
from trailcheck.models import Variant
from trailcheck.variants.perturb import KINDS, UnknownKindError, check_kinds, perturb_suite, render_suite


def _split_kinds(kinds: list[str] | None) -> list[str]:
    """`--kinds typo,injection` and `--kinds typo --kinds injection` both work."""
    return [k.strip() for value in kinds or [] for k in value.split(",") if k.strip()] or list(KINDS)


def perturb(
    suite: Annotated[Path, typer.Argument(help="The suite YAML file whose cases are varied.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where to write the derived suite (YAML).")],
    kinds: Annotated[
        list[str] | None,
        typer.Option(metavar="KIND", help=f"Perturbations (repeat or comma-separate): {', '.join(KINDS)}."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Same seed, same variants.")] = 0,
    per_case: Annotated[
        int, typer.Option(min=1, help="Variants per case and kind (where they can differ).")
    ] = 1,
    force: Annotated[bool, typer.Option(help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Derive variants of every case (typos, missing details, contradictions, padding, injections) into FILE.

    Each variant has its own id (`<case>:<kind>-<n>`), tags naming the perturbation, and
    expectations fit for it; FILE loads as a suite and runs with `trailcheck run`.

    Exit codes: 0 variants written, 2 bad input.
    """
    try:
        chosen = check_kinds(_split_kinds(kinds))
    except UnknownKindError as exc:
        raise fail(f"--kinds: {exc}") from None
    try:
        source = load_checked_suite(suite)
    except SuiteError as exc:
        raise fail(str(exc)) from None
    if out_file.resolve() == suite.resolve():
        raise fail(f"--out {out_file} is the source suite; fix: write the variants to another file")
    if not out_file.parent.is_dir():
        raise fail(f"--out {out_file}: directory {out_file.parent} does not exist; fix: create it first")
    if out_file.exists() and not force:
        raise fail(f"--out {out_file} already exists; fix: pick another path or pass --force to overwrite")
    variants = perturb_suite(source, chosen, seed=seed, per_case=per_case)
    if not variants:
        raise fail(
            f"{suite}: none of its cases can be varied by {', '.join(chosen)} (no ids, amounts or actions to "
            f"work with); fix: choose other --kinds (known: {', '.join(KINDS)})"
        )
    command = f"trailcheck perturb {shlex.quote(str(suite))} --out {shlex.quote(str(out_file))} " + (
        f"--kinds {','.join(chosen)} --seed {seed} --per-case {per_case}"
    )
    header = [
        f"Derived from {suite} ({source.name} v{source.version}) by:",
        f"  {command}",
        "Review before committing: each case names its original and perturbation, and its description",
        "says why its expectations are what they are.",
        "",
    ]
    out_file.write_text(render_suite(source, variants, header), encoding="utf-8")
    written = load_checked_suite(out_file)  # what was written must load, or this is trailcheck's bug
    _print_summary(chosen, variants, len(source.cases))
    out.print(f"wrote {len(written.cases)} cases to {out_file} (suite {written.name})", highlight=False)


def _print_summary(kinds: list[str], variants: list[Variant], n_cases: int) -> None:
    counts = Counter(v.kind for v in variants)
    varied = {k: len({v.original_id for v in variants if v.kind == k}) for k in kinds}
    table = Table(title="Variants", title_justify="left")
    for column in ("perturbation", "variants", "cases varied"):
        table.add_column(column)
    for kind in kinds:
        table.add_row(kind, str(counts[kind]), f"{varied[kind]}/{n_cases}")
    out.print(table)
