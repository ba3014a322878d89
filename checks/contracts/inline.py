"""The fast path: each recorded tool call checked against its tool's JSON Schemas, during a replay.

No Great Expectations here (a replay must not pay its import): a successful response is validated
against the tool's `response_schema`, and the call's arguments against its `parameters`, with
validators compiled once per tool. A case then shows which step broke which contract:

- `tool_contracts` (failure category `integration`): a response that breaks its schema; the
  integration changed under the agent.
- `tool_arguments` (failure category `tool_call_failure`): a call to an unknown tool, without a
  required argument, with a value the schema does not allow, or with an argument it does not know.

Calls that got no answer to judge (an error status, a timeout) are left to the checks that look
for hidden failures; a 2xx answer the agent refused as malformed is judged: it is a contract break.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.models import FailureCategory, ToolCall, Trajectory, Verdict
from trailcheck.models.inventory import ToolInventory
from trailcheck.models.tool_failure import contract_error


def _where(error: jsonschema.ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return f"${path}" if path else "$"


def _describe(error: jsonschema.ValidationError) -> str:
    return f"at {_where(error)}: {error.message}"


def closed_object(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An argument schema that refuses arguments it does not list, unless it says otherwise."""
    closed = dict(schema)
    for combinator in ("anyOf", "oneOf"):  # alternative shapes of the arguments: close each one
        if isinstance(closed.get(combinator), list):
            shapes = closed[combinator]
            closed[combinator] = [closed_object(s) if isinstance(s, Mapping) else s for s in shapes]
    lists_arguments = "properties" in closed and closed.get("type", "object") == "object"
    if lists_arguments and "additionalProperties" not in closed:
        closed["additionalProperties"] = False
    return closed


class ArgumentChecker:
    """Judges tool calls against the tools' argument schemas (name, required, allowed values, unknown)."""

    def __init__(self, parameters: Mapping[str, Mapping[str, Any] | None]) -> None:
        self._validators = {
            name: None if schema is None else jsonschema.Draft202012Validator(closed_object(schema))
            for name, schema in parameters.items()
        }

    def problem(self, name: str, args: Mapping[str, Any]) -> str | None:
        """None when the call is valid, else why not."""
        if name not in self._validators:
            known = ", ".join(sorted(self._validators)) or "none"
            return f"unknown tool {name!r} (known: {known})"
        validator = self._validators[name]
        if validator is None:
            return None
        error = best_match(validator.iter_errors(dict(args)))
        if error is None:
            return None
        if error.validator == "additionalProperties":
            schema = validator.schema if isinstance(validator.schema, Mapping) else {}
            allowed = ", ".join(sorted(schema.get("properties") or {})) or "none"
            return f"{name}: {error.message} (allowed: {allowed})"
        if error.validator == "required":
            return f"{name}: {error.message}"
        return f"{name} argument {_describe(error)}"


class ResponseChecker:
    """Judges tool responses against the tools' response schemas."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self._validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}

    def knows(self, tool: str) -> bool:
        """Whether `tool` has a response schema here."""
        return tool in self._validators

    def problem(self, tool: str, response: Any) -> str | None:
        """None when `response` matches the tool's schema (or the tool has none), else where and why not."""
        validator = self._validators.get(tool)
        if validator is None or validator.is_valid(response):  # the common case, without ranking errors
            return None
        error = best_match(validator.iter_errors(response))
        return None if error is None else _describe(error)


def _summary(problems: list[tuple[int, str, str]], what: str) -> str:
    first_step, tool, reason = problems[0]
    text = f"step {first_step} {tool} {what}: {reason}"
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more: steps {', '.join(str(s) for s, _, _ in problems[1:])})"
    return text


@dataclass
class ToolContracts:
    """Every successful tool response of the trial matches its tool's response schema."""

    inventory: ToolInventory
    name: str = "tool_contracts"
    failure_category: FailureCategory = FailureCategory.INTEGRATION
    _checker: ResponseChecker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._checker = ResponseChecker({t.name: t.response_schema for t in self.inventory.tools})

    def evaluate(self, ctx: CheckContext) -> Verdict:
        problems = []
        for i, step in enumerate(ctx.trajectory.steps):
            if isinstance(step, ToolCall) and step.answered:
                problem = self._checker.problem(step.name, step.result)
                if problem:
                    problems.append((i, step.name, problem))
        if not problems:
            return passed(self.name)
        reason = _summary(problems, "response broke its contract")
        return failed(self.name, reason, self.failure_category, problems[0][0])


@dataclass
class ToolArguments:
    """Every tool call names a tool of the inventory and passes arguments its schema allows."""

    inventory: ToolInventory
    name: str = "tool_arguments"
    failure_category: FailureCategory = FailureCategory.TOOL_CALL_FAILURE
    _checker: ArgumentChecker = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._checker = ArgumentChecker({t.name: t.parameters for t in self.inventory.tools})

    def evaluate(self, ctx: CheckContext) -> Verdict:
        problems = []
        for i, step in enumerate(ctx.trajectory.steps):
            if isinstance(step, ToolCall):
                problem = self._checker.problem(step.name, step.args)
                if problem:
                    problems.append((i, step.name, problem))
        if not problems:
            return passed(self.name)
        # The checker's reason starts with the tool's name, which the summary already gives.
        trimmed = [(i, tool, p.removeprefix(f"{tool}: ").removeprefix(f"{tool} ")) for i, tool, p in problems]
        return failed(self.name, _summary(trimmed, "call"), self.failure_category, problems[0][0])


def contract_checks(inventory: ToolInventory) -> list[ToolContracts | ToolArguments]:
    """The inline checks a replay adds to every case when an inventory is configured."""
    return [ToolContracts(inventory), ToolArguments(inventory)]


def mark_contract_breaks(trajectory: Trajectory, inventory: ToolInventory) -> Trajectory:
    """`trajectory` with every answered call whose result breaks its contract marked failed.

    Rule 5 of trailcheck/models/tool_failure.py: a recorded trace scored with an inventory counts
    a contract break (a ``{}`` where fields are required: ``empty result``) as a failed call, as
    the fault matrix does when its empty_result or schema_break fault causes one.
    """
    checker = ResponseChecker({t.name: t.response_schema for t in inventory.tools if t.response_schema})
    updates = {}
    for i, step in enumerate(trajectory.steps):
        if isinstance(step, ToolCall) and not step.failed and checker.knows(step.name):
            problem = checker.problem(step.name, step.result)
            if problem:
                updates[i] = step.model_copy(update={"error": contract_error(step.result, problem)})
    if not updates:
        return trajectory
    steps = [updates.get(i, s) for i, s in enumerate(trajectory.steps)]
    return trajectory.model_copy(update={"steps": steps})
