"""tool_call_failure: the agent mishandled its tools.

Five findings, each named with the messages involved:

- used a failed call's result: a value that only the failed call's supposed result carried (not
  its error message, not anything seen before) shows up later in a tool call's arguments or a
  message to the user, i.e. the agent went on as if the call had succeeded;
- acted on a failed lookup: a read (lookup_/get_/search_...) failed and, later in the conversation and
  without a successful retry, the agent made a write (issue_/update_/cancel_/book_...) on the same
  identifier, as if the lookup had vouched for it (escalation tools are not writes);
- retried a non-retryable error: the same call (same tool, same arguments) sent again in the same
  turn after it failed with a 4xx other than 408/429 or a business error ("Error: not enough
  seats"), which the same request meets again;
- exceeded the retry budget: more than `max_retries` (case expectation, default 3) retries of the
  same call in one turn, whatever the error;
- wrong tool or wrong arguments, when a case is given: a call to a tool the case's `tool_calls`
  does not allow (modes strict, unordered, subset; escalation tools are always allowed), or to an
  expected tool with arguments that match none of its expected calls. Order and missing calls are
  the `tool_calls` check's job. Calls outside the block's scope (`only`, `tools_matching`) are free;
  a failed call later corrected by a successful expected call is no finding, and with
  `count: succeeded` no failed call is judged here at all.
"""

import re

from trailcheck.checks._failures import VALUE, is_non_retryable
from trailcheck.checks._steps import (
    args_text,
    canonical_args,
    excerpt,
    indices,
    is_escalation,
    short_call,
    strings_in,
    where,
)
from trailcheck.checks.matching import match_call
from trailcheck.models import (
    CallCount,
    Case,
    FailureCategory,
    MatchMode,
    Step,
    ToolCall,
    Trajectory,
    UserMessage,
    Verdict,
    VerdictStatus,
)

NAME = "tool_call_failure"
_READ = re.compile(r"^(?:lookup|get|search|find|list|fetch|check|read|query|retrieve|show|view)(?:_|$)")
_WRITE = re.compile(
    r"^(?:issue|create|update|cancel|delete|book|send|refund|modify|set|add|remove|transfer|charge|pay"
    r"|submit|change|place|approve|reset)(?:_|$)"
)
DEFAULT_MAX_RETRIES = 3
_SHOWN = 3


class _Findings:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.indices: set[int] = set()
        self.first_step: int | None = None
        self.by_failed_call: list[tuple[int, str]] = []  # (the failed call's step, problem)

    def add(self, step_index: int, problem: str, *steps: Step, failed_call: int | None = None) -> None:
        self.problems.append(problem)
        self.indices.update(indices(*steps))
        self.first_step = step_index if self.first_step is None else min(self.first_step, step_index)
        if failed_call is not None:
            self.by_failed_call.append((failed_call, problem))


def mishandled_failed_calls(trajectory: Trajectory) -> list[tuple[int, str]]:
    """(step of the failed call, problem) for each failed call the agent went on from as if it had
    worked: its result used, or a write on the identifier it failed to look up. FaultHandled
    (checks/fault_checks.py) reads these for the calls an injected fault broke."""
    steps = list(trajectory.steps)
    found = _Findings()
    _used_failed_results(steps, found)
    _acted_on_failed_lookups(steps, found)
    return found.by_failed_call


def _text_of(step: Step) -> str:
    if isinstance(step, ToolCall):
        parts = [args_text(step)]
        if step.result is not None:
            parts.extend(strings_in(step.result))
        return " ".join(parts)
    return step.content


def _success_values(call: ToolCall) -> set[str]:
    """Values in a failed call's result that are not part of its error message."""
    result = call.result
    if isinstance(result, dict):
        result = {k: v for k, v in result.items() if k not in ("error", "errors", "detail", "message")}
    text = " ".join(strings_in(result))
    if not text:
        return set()
    error = call.error or ""
    return {v for v in VALUE.findall(text) if v not in error}


def _mentions(text: str, value: str) -> bool:
    """`value` stands in `text` as a whole token: '0.0' is not in '$60.00', 'A1001' is in 'A1001.'."""
    return re.search(rf"(?<![\w.]){re.escape(value)}(?!\w|\.\d)", text) is not None


def _used_failed_results(steps: list[Step], found: _Findings) -> None:
    seen: list[str] = []
    for i, step in enumerate(steps):
        if isinstance(step, ToolCall) and step.failed:
            before = " ".join(seen) + " " + args_text(step)
            fresh = {v for v in _success_values(step) if v not in before}
            for j in range(i + 1, len(steps)) if fresh else ():
                later = steps[j]
                if isinstance(later, UserMessage):
                    text = later.content  # a value the user repeats is no longer the tool's alone
                    fresh = {v for v in fresh if v not in text}
                    continue
                text = args_text(later) if isinstance(later, ToolCall) else later.content
                used = sorted(v for v in fresh if _mentions(text, v))
                if not used and isinstance(later, ToolCall) and not later.failed and later.result is not None:
                    # A value a later call returned may be where the agent got it, not the failed call.
                    returned = " ".join(strings_in(later.result))
                    fresh = {v for v in fresh if not _mentions(returned, v)}
                    continue
                if used:
                    what = f"{short_call(later)}" if isinstance(later, ToolCall) else "its reply"
                    found.add(
                        j,
                        f"{short_call(step)} failed at {where(step, i)} but {what} at {where(later, j)} uses "
                        f"{', '.join(map(repr, used[:3]))} from its result, as if it had succeeded",
                        step,
                        later,
                        failed_call=i,
                    )
                    break
        seen.append(_text_of(step))


def _acted_on_failed_lookups(steps: list[Step], found: _Findings) -> None:
    for i, read in enumerate(steps):
        if not (isinstance(read, ToolCall) and read.failed and _READ.match(read.name)):
            continue
        keys = {str(v) for v in read.args.values() if isinstance(v, str | int) and not isinstance(v, bool)}
        for j in range(i + 1, len(steps)):
            later = steps[j]
            # Not bounded by the turn: a user who asks again does not make the failed lookup vouch
            # for the identifier (the agent refunding an order it never managed to look up).
            if not isinstance(later, ToolCall):
                continue
            if later.name == read.name and not later.failed:
                break  # retried successfully: what follows rests on a lookup that worked
            if _WRITE.match(later.name) and not is_escalation(later):
                shared = sorted(k for k in keys if k in {str(v) for v in later.args.values()})
                if shared:
                    found.add(
                        j,
                        f"{short_call(read)} failed at {where(read, i)}, yet {short_call(later)} at "
                        f"{where(later, j)} acts on {', '.join(map(repr, shared))} "
                        "as if the lookup had succeeded",
                        read,
                        later,
                        failed_call=i,
                    )
                    break


def _retries(steps: list[Step], max_retries: int, found: _Findings) -> None:
    attempts: dict[tuple[str, str], list[int]] = {}  # same call in this turn -> its step indices
    for i, step in enumerate(steps):
        if isinstance(step, UserMessage):
            attempts.clear()
            continue
        if not isinstance(step, ToolCall):
            continue
        key = (step.name, canonical_args(step))
        earlier = attempts.setdefault(key, [])
        if earlier:
            previous = steps[earlier[-1]]
            assert isinstance(previous, ToolCall)
            if is_non_retryable(previous) and len(earlier) == 1:
                found.add(
                    i,
                    f"retried {short_call(step)} at {where(step, i)} unchanged after a non-retryable error "
                    f"({excerpt(previous.error or f'HTTP {previous.status_code}', 60)}) "
                    f"at {where(previous, earlier[-1])}",
                    previous,
                    step,
                )
            elif len(earlier) == max_retries + 1:
                found.add(
                    i,
                    f"{short_call(step)} tried {len(earlier) + 1} times in one turn (at {where(step, i)}), "
                    f"over the retry budget of {max_retries}",
                    step,
                )
        if step.failed:
            earlier.append(i)
        else:
            attempts.pop(key, None)


def _corrected_later(steps: list[Step], i: int, specs: list) -> bool:
    """Whether the failed call at `i` was followed by a successful call of the same tool that the
    case expects: the attempt changed nothing and the agent got it right, so it is no finding."""
    call = steps[i]
    assert isinstance(call, ToolCall)
    return any(
        isinstance(later, ToolCall)
        and later.name == call.name
        and not later.failed
        and any(match_call(spec, later) is None for spec in specs)
        for later in steps[i + 1 :]
    )


def _against_case(steps: list[Step], case: Case, found: _Findings) -> None:
    expected = case.expectations.tool_calls
    if expected is None:
        return
    by_name: dict[str, list] = {}
    for spec in expected.calls:
        by_name.setdefault(spec.name, []).append(spec)
    closed = expected.mode in (MatchMode.STRICT, MatchMode.UNORDERED, MatchMode.SUBSET)
    effects_only = (expected.count or case.expectations.count) is CallCount.SUCCEEDED
    for i, step in enumerate(steps):
        if not isinstance(step, ToolCall) or not expected.in_scope(step.name):
            continue  # calls outside the block's scope are free
        if step.failed and effects_only:
            continue  # only calls that took effect count
        specs = by_name.get(step.name)
        if specs is None:
            # Handing over to a human is never the wrong tool: it is how an agent fails safely.
            if closed and not is_escalation(step):
                allowed = ", ".join(sorted(by_name)) or "no tool"
                found.add(
                    i, f"wrong tool: {short_call(step)} at {where(step, i)}; the case allows {allowed}", step
                )
            continue
        problems = [match_call(spec, step) for spec in specs]
        if all(problems) and not (step.failed and _corrected_later(steps, i, specs)):
            found.add(i, f"wrong arguments: {short_call(step)} at {where(step, i)}: {problems[0]}", step)


def tool_call_failure(trajectory: Trajectory, case: Case | None) -> Verdict:
    """Fail on a failed call's result used, a futile or excessive retry, or a wrong tool or argument."""
    steps = list(trajectory.steps)
    found = _Findings()
    if any(isinstance(s, ToolCall) and s.failed for s in steps):  # the common clean trace costs one pass
        _used_failed_results(steps, found)
        _acted_on_failed_lookups(steps, found)
        limit = case.expectations.max_retries if case and case.expectations.max_retries is not None else None
        _retries(steps, DEFAULT_MAX_RETRIES if limit is None else limit, found)
    if case is not None:
        _against_case(steps, case, found)
    if not found.problems:
        return Verdict(check=NAME, status=VerdictStatus.PASSED)
    more = f" (and {len(found.problems) - _SHOWN} more)" if len(found.problems) > _SHOWN else ""
    return Verdict(
        check=NAME,
        status=VerdictStatus.FAILED,
        reason="; ".join(found.problems[:_SHOWN]) + more,
        failure_category=FailureCategory.TOOL_CALL_FAILURE,
        step_index=found.first_step,
        message_indices=sorted(found.indices),
    )
