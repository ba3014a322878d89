"""Write variants as a suite file a person can review: each case says, in a comment, where it came from.

The original suite's defaults are kept, and each case lists only what differs from them, so a
derived case reads like a hand-written one. A derived case that drops a defaulted expectation
says so with an explicit ``null`` (a case's own values win over the defaults).
"""

from typing import Any

import yaml

from trailcheck.models import Case, CaseDefaults, Suite, Variant


class _Dumper(yaml.SafeDumper):
    """Block style, except short lists of plain values (tags, never_call), which read best inline."""


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    inline = all(isinstance(v, str | int | float | bool) and len(str(v)) < 40 for v in data) and len(data) < 6
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=inline and bool(data))


class _Block(list[str]):
    """A list always written one item a line (turns)."""


def _represent_block(dumper: yaml.SafeDumper, data: _Block) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=False)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(_Block, _represent_block)


def _tool_calls(case: Case) -> dict[str, Any] | None:
    """The expected calls with the mode always said, and `{exact: A1001}` written as `A1001`."""
    expected = case.expectations.tool_calls
    if expected is None:
        return None
    calls = []
    for spec in expected.calls:
        doc = spec.model_dump(mode="json", exclude_defaults=True)
        for name, matcher in (doc.get("args") or {}).items():
            if set(matcher) == {"exact"} and not isinstance(matcher["exact"], dict):
                doc["args"][name] = matcher["exact"]
        calls.append(doc["name"] if set(doc) == {"name"} else doc)
    return {"mode": expected.mode.value, "calls": calls}


def case_document(case: Case, defaults: CaseDefaults) -> dict[str, Any]:
    """The case as it would be written in a suite with these defaults (only what differs from them)."""
    doc: dict[str, Any] = case.model_dump(mode="json", exclude_defaults=True)
    doc["turns"] = _Block(t.content for t in case.turns)
    for key in ("task_type", "timeout_s"):
        default = getattr(defaults, key)
        if default is not None:
            value = getattr(case, key)
            if value == default:
                doc.pop(key, None)
            else:
                doc[key] = value
    own_context = {k: v for k, v in case.context.items() if defaults.context.get(k, object()) != v}
    doc.pop("context", None)
    if own_context:
        doc["context"] = own_context
    own_tags = [t for t in case.tags if t not in defaults.tags]
    doc.pop("tags", None)
    if own_tags:
        doc["tags"] = own_tags
    expectations = case.expectations.model_dump(mode="json", exclude_defaults=True)
    full = case.expectations.model_dump(mode="json")
    for key, default in defaults.expectations.model_dump(mode="json", exclude_defaults=True).items():
        if expectations.get(key, full[key]) == default:
            expectations.pop(key, None)
        else:
            expectations[key] = full[key]  # may be null or []: dropping a default is said out loud
    if "tool_calls" in expectations:
        expectations["tool_calls"] = _tool_calls(case)
    doc.pop("expectations", None)
    if expectations:
        doc["expectations"] = expectations
    order = ("id", "description", "task_type", "failure_category", "tags", "turns", "context", "expectations")
    return {k: doc[k] for k in order if k in doc} | {k: v for k, v in doc.items() if k not in order}


def _dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _indented_item(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return "\n".join(["  - " + lines[0], *("    " + line for line in lines[1:])])


def render_suite(
    source: Suite,
    variants: list[Variant],
    header: list[str],
    name: str | None = None,
    description: str | None = None,
) -> str:
    """The suite YAML of `variants`, keeping `source`'s defaults; `header` lines become a leading comment."""
    top: dict[str, Any] = {
        "name": name or f"{source.name}-perturbed",
        "version": source.version,
        "description": description or f"Perturbed variants of {source.name} v{source.version}, for review.",
    }
    defaults = source.defaults.model_dump(mode="json", exclude_defaults=True)
    if defaults:
        top["defaults"] = defaults
    parts = [*(f"# {line}".rstrip() for line in header), _dump(top).rstrip("\n"), "cases:"]
    for variant in variants:
        parts.append(f"  # {variant.kind} variant of {variant.original_id}")
        parts.append(_indented_item(_dump(case_document(variant.case, source.defaults))))
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"
