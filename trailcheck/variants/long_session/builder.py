"""Build a long-session suite: each scenario case, padded with N filler turns for each N of a ramp.

A scenario is a case of two turns or more: the turns before the last plant a constraint (a
fact or rule the agent must keep), the last turn probes it, and the case's expectations say
what honouring it looks like. For each N the builder inserts N filler turns before the probe.
Expectations that grow with the session (max_tool_calls, max_steps, budgets) are dropped, and
the whole-trial timeout grows with the number of turns; the rest is the scenario's own.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from trailcheck.loading import safe_yaml
from trailcheck.models import Case, FailureCategory, SessionPlan, Suite, Turn, Variant
from trailcheck.variants.long_session.fillers import filler_turns

DEFAULT_TRIAL_TIMEOUT_S = 30.0  # the adapters' default (trailcheck.agents.config.DEFAULT_TIMEOUT_S)
MAX_FILLERS = 1000


@dataclass
class ScenarioError(ValueError):
    """The suite, case or ramp cannot make a long-session test; the message has the place and the fix."""

    message: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.message}\n    fix: {self.fix}" if self.fix else self.message


def parse_ramp(text: str) -> list[int]:
    """`0,5,10,20,40` -> [0, 5, 10, 20, 40] (sorted, without duplicates); ScenarioError otherwise."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not re.fullmatch(r"\d+", part):
            raise ScenarioError(
                f"--ramp {text!r}: {part!r} is not a whole number of filler turns",
                fix="give comma-separated whole numbers, e.g. --ramp 0,5,10,20,40",
            )
        values.append(int(part))
    if max(values) > MAX_FILLERS:
        raise ScenarioError(
            f"--ramp {text!r}: {max(values)} filler turns is over the limit of {MAX_FILLERS}",
            fix="keep session lengths realistic",
        )
    return sorted(set(values))


def _line_of_case(path: Path, case_id: str) -> int | None:
    text = safe_yaml.read_text(path)
    safe_yaml.check_depth(text)  # libyaml can crash the process on very deep nesting
    node = yaml.compose(text, Loader=safe_yaml.LOADER)
    cases = next((v for k, v in getattr(node, "value", []) if getattr(k, "value", None) == "cases"), None)
    for item in getattr(cases, "value", []):
        for key, value in getattr(item, "value", []):
            if getattr(key, "value", None) == "id" and getattr(value, "value", None) == case_id:
                return int(item.start_mark.line) + 1
    return None


def select_scenarios(suite: Suite, path: Path, case_id: str | None) -> list[Case]:
    """The named case, or every case of two turns or more; ScenarioError says why none fits."""
    if case_id is not None:
        try:
            case = suite.case(case_id)
        except KeyError:
            known = ", ".join(c.id for c in suite.cases)
            raise ScenarioError(f"{path}: no case {case_id!r}", fix=f"use one of: {known}") from None
        if len(case.turns) < 2:
            line = _line_of_case(path, case_id)
            raise ScenarioError(
                f"{path}:{line}: case {case_id!r}, turns: has 1 turn; a long-session scenario needs a turn "
                "that plants a constraint and a last turn that probes it",
                fix="add the probe as a second turn (the expectations judge the answer to it)",
            )
        return [case]
    scenarios = [c for c in suite.cases if len(c.turns) >= 2]
    if not scenarios:
        raise ScenarioError(
            f"{path}: no case has two turns or more; a long-session scenario plants a constraint in its "
            "first turn(s) and probes it in its last",
            fix="add such a case (see suites/long-session.yaml) or name one with --case",
        )
    return scenarios


def session_case(case: Case, fillers: int, seed: int = 0) -> tuple[Variant, SessionPlan]:
    """`case` with `fillers` filler turns before its probe, judged as a context_saturation case."""
    plant, probe = [t.content for t in case.turns[:-1]], case.turns[-1].content
    turns = [*plant, *filler_turns(fillers, seed), probe]
    base_timeout = case.timeout_s or DEFAULT_TRIAL_TIMEOUT_S
    note = f"{fillers} filler turn(s) between the constraint (turn 1) and the probe (turn {len(turns)})"
    derived = case.model_copy(
        update={
            "id": f"{case.id}:fillers-{fillers}",
            "turns": [Turn(content=t) for t in turns],
            "expectations": case.expectations.model_copy(
                update={"max_tool_calls": None, "max_steps": None, "budgets": None}
            ),
            "tags": list(dict.fromkeys([*case.tags, "long-session", f"fillers-{fillers}"])),
            "description": f"{case.id}: {note}",
            "failure_category": FailureCategory.CONTEXT_SATURATION,
            "timeout_s": round(base_timeout * len(turns) / len(case.turns), 1),
            "origin": None,
        }
    )
    variant = Variant(
        case=Case.model_validate(derived.model_dump()), original_id=case.id, kind="long-session", note=note
    )
    plan = SessionPlan(case_id=variant.case.id, scenario=case.id, fillers=fillers, turns=len(turns))
    return variant, plan


def build_sessions(
    scenarios: list[Case], ramp: list[int], seed: int = 0
) -> list[tuple[Variant, SessionPlan]]:
    """One session case per scenario and ramp step, shortest first."""
    return [session_case(case, n, seed) for n in ramp for case in scenarios]
