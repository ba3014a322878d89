"""Turn a failed live trace into a regression case appended to a suite file.

The case carries the user turns, the tool responses the trace recorded as fixtures (so it can
replay without the live systems), the observed behaviour, the expected behaviour (from the review
or a person), the failure category and the trace id (`origin`). The suite file is appended to as
text, after the last case: the rest of the file (comments, order, formatting) is left as it was.
The result is loaded with `load_suite` before it replaces the file, so a promotion never leaves
a suite that does not load.
"""

import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from trailcheck.loading import safe_yaml
from trailcheck.loading.suite import load_suite
from trailcheck.models import Case, CaseOrigin, FailureCategory, ToolFixture, Trace
from trailcheck.models.live import ScoredTrace

# The loader `load_suite` uses, so both read the file alike (libyaml accepts a little more than PyYAML).


class PromoteError(Exception):
    """The trace or the suite cannot be used; the message names which and the fix."""


def _parsed(content: Any) -> Any:
    if isinstance(content, str):
        try:
            return json.loads(content)
        except json.JSONDecodeError:
            return content
    return content


def fixtures_from_messages(messages: Iterable[Mapping[str, Any]]) -> list[ToolFixture]:
    """One fixture per answered tool call, in call order: tool, arguments, status, body, error."""
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    fixtures = []
    for message in messages:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function") or {}
                args = _parsed(function.get("arguments") or "{}")
                calls[str(call.get("id"))] = (
                    str(function.get("name")),
                    args if isinstance(args, dict) else {},
                )
        elif message.get("role") == "tool":
            name, args = calls.pop(str(message.get("tool_call_id")), (None, {}))
            if name is None:
                continue
            error = message.get("error")
            status = message.get("status") or message.get("status_code") or (500 if error else 200)
            fixtures.append(
                ToolFixture(
                    tool=name,
                    args=args,
                    status=int(status),
                    body=_parsed(message.get("content")),
                    error=str(error) if error else None,
                )
            )
    return fixtures


def observed_behaviour(trace: Trace, scored: ScoredTrace | None = None) -> str:
    """What the agent did, in a sentence or two: its answer, failed tool calls and failed checks."""
    trajectory = trace.to_trajectory()
    parts = [f"answered: {trajectory.final_answer!r}" if trajectory.final_answer else "gave no answer"]
    failed_calls = [f"{c.name} failed ({c.error})" for c in trajectory.tool_calls if c.failed]
    if failed_calls:
        parts.append("tool calls: " + "; ".join(failed_calls))
    if trajectory.escalated:
        parts.append("escalated to a human")
    if scored is not None:
        failed = [f"{v.check}: {v.reason}" for v in scored.verdicts if v.status == "failed"]
        if failed:
            parts.append("failed checks: " + "; ".join(failed))
        if scored.review and scored.review.decision == "rejected":
            parts.append("rejected in review" + (f" ({scored.review.note})" if scored.review.note else ""))
    return "; ".join(parts)


def case_id_for(trace_id: str) -> str:
    """A valid case id for a promoted trace."""
    return "live-" + (re.sub(r"[^A-Za-z0-9_.:-]+", "-", trace_id).strip("-") or "trace")


def case_from_trace(
    trace: Trace,
    *,
    expected: str = "",
    scored: ScoredTrace | None = None,
    failure_category: FailureCategory | None = None,
    case_id: str | None = None,
) -> Case:
    """The regression case for `trace` (see the module docstring)."""
    if not trace.trace_id:
        raise PromoteError("the trace has no trace_id; only traces with an id can be promoted")
    turns = [str(m["content"]) for m in trace.messages if m.get("role") == "user" and m.get("content")]
    if not turns:
        raise PromoteError(f"trace {trace.trace_id!r} has no user message to replay")
    category = failure_category or (scored.failure_category if scored else None)
    if category is None and scored is not None and scored.review and scored.review.decision == "rejected":
        category = FailureCategory.QUALITY_DEGRADATION
    context = trace.model_extra.get("context") if trace.model_extra else None
    review_expected = scored.review.expected if scored and scored.review else ""
    return Case(
        id=case_id or case_id_for(trace.trace_id),
        task_type=trace.task_type or "general",
        description=f"Promoted from live trace {trace.trace_id}.",
        turns=turns,  # strings are user turns (Case validator)
        context=context if isinstance(context, dict) else {},
        tags=["promoted", "live"],
        failure_category=category,
        fixtures=fixtures_from_messages(trace.messages),
        origin=CaseOrigin(
            trace_id=trace.trace_id,
            observed=observed_behaviour(trace, scored),
            expected=expected or review_expected,
            promoted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )


def _case_yaml(case: Case, indent: int) -> str:
    data = case.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
    data = {"id": data.pop("id"), **data}
    data["turns"] = [t["content"] for t in data["turns"]]  # plain strings are user turns
    text = yaml.safe_dump([data], sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _insertion(text: str, path: Path) -> tuple[int, int, bool]:
    """(line to insert before, indent of the items, whether a `cases:` key must be written)."""
    try:
        safe_yaml.check_depth(text)  # libyaml can crash the process on very deep nesting
        root = yaml.compose(text, Loader=safe_yaml.LOADER)
    except (yaml.YAMLError, safe_yaml.YamlRefused) as exc:
        raise PromoteError(f"{path}: not valid YAML: {exc}\n    fix: repair the suite first") from None
    if not isinstance(root, yaml.MappingNode):
        raise PromoteError(f"{path}: a suite is a mapping with name, version and cases")
    for key, value in root.value:
        if key.value != "cases":
            continue
        if not isinstance(value, yaml.SequenceNode) or value.flow_style:
            raise PromoteError(
                f"{path}:{key.start_mark.line + 1}: 'cases' is not a block list, so a case cannot be appended"
                "\n    fix: write cases as a block list (one '- id: ...' item per case)"
            )
        if not value.value:
            raise PromoteError(
                f"{path}:{key.start_mark.line + 1}: 'cases' is empty\n    fix: add a case first"
            )
        end = value.end_mark
        line = end.line if end.column == 0 else end.line + 1
        # The node ends where the next key starts: step back over blank and comment lines before it.
        lines = text.splitlines()
        while line > 0 and (not lines[line - 1].strip() or lines[line - 1].lstrip().startswith("#")):
            line -= 1
        return line, value.start_mark.column, False
    return len(text.splitlines()), 2, True


def append_case(suite_path: str | Path, case: Case) -> None:
    """Append `case` to the suite file after its last case; refuse a duplicate id or a suite that breaks."""
    path = Path(suite_path)
    suite = load_suite(path)  # a broken suite is reported as it is, before anything is written
    if any(c.id == case.id for c in suite.cases):
        raise PromoteError(f"{path}: case {case.id!r} is already in the suite (promoted before?)")
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    line, indent, needs_key = _insertion(text, path)
    lines = text.splitlines(keepends=True)
    block = f"\n{' ' * indent}# promoted from live trace {case.origin.trace_id if case.origin else ''}\n"
    block += _case_yaml(case, indent)
    if needs_key:
        block = "cases:\n" + block
    new_text = "".join(lines[:line]) + block + "".join(lines[line:])
    tmp = path.with_name(f".{path.stem}.promote-{os.getpid()}{path.suffix}")
    tmp.write_text(new_text, encoding="utf-8")
    try:
        load_suite(tmp)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
