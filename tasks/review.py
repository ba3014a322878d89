"""Human review inside a flow run: ONE pause for all the traces that need it, a typed form, a default.

The flow pauses once (`pause_flow_run(wait_for_input=<form>)`) for the run's N traces needing
review. The form's description shows each trace's conversation (as a code block: agent and user
text is never Markdown) with its failed checks; the form has one decision per trace with no
default (`decision_1` ... `decision_N`: approve or reject), an `expected_<n>` for what the agent
should have done, and a note. Answer it in the Prefect UI, or from a shell:

    trailcheck review list                 # live-sampling runs waiting for a review
    trailcheck review show FLOW_RUN_ID     # the traces, conversations and failed checks
    trailcheck review decide FLOW_RUN_ID --approve 1,2 --reject 3 --expected 3="refuse the refund"

Nobody answering within `timeout_s` must not fail the run: Prefect fails a flow run whose pause
expires, so the step resumes the run itself with the default decision for every trace just
before, and records them as decided by ``timeout``. Must be called from inside a flow run.
"""

import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from prefect import get_run_logger
from prefect.exceptions import PrefectException
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from pydantic import Field, create_model

from trailcheck.analysis.sampling import SampledTrace
from trailcheck.models import Trace
from trailcheck.models.live import Review, ReviewDecision, ScoredTrace
from trailcheck.render.markdown import code_span, escape_markdown

# The pause itself outlives the default by this much, so the default always resumes it first.
PAUSE_GRACE_S = 60
REVIEW_KEY = "trailcheck-review"
CONVERSATION_LIMIT = 4000
Decision = Literal["approve", "reject"]


class ReviewInput(RunInput):
    """The review form of one trace (kept for runs paused by an older trailcheck)."""

    decision: Decision
    expected: str = ""
    note: str = ""


def review_form(n: int) -> type[RunInput]:
    """The form of a batch of `n` traces: decision_<i> (required, no default), expected_<i>, note."""
    fields: dict[str, Any] = {}
    for i in range(1, n + 1):
        fields[f"decision_{i}"] = (Decision, Field(description=f"Trace {i}: approve or reject its output."))
        fields[f"expected_{i}"] = (
            str,
            Field(default="", description=f"Trace {i}: what it should have done."),
        )
    fields["note"] = (str, Field(default="", description="A note kept with every decision."))
    return create_model("BatchReviewInput", __base__=RunInput, **fields)


def conversation_text(trace: Trace, limit: int = CONVERSATION_LIMIT) -> str:
    """The conversation as plain lines (role: content, tool calls and results), cut at `limit`."""
    lines = []
    for message in trace.messages:
        role = str(message.get("role", "?"))
        content = message.get("content")
        if content:
            lines.append(f"{role}: {content}")
        for call in message.get("tool_calls") or []:
            function = call.get("function", {}) if isinstance(call, dict) else {}
            lines.append(f"{role} -> {function.get('name', '?')}({function.get('arguments', '')})")
        if message.get("error"):
            lines.append(f"{role} error: {message['error']}")
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fenced(text: str) -> str:
    # A fence longer than any backtick run inside keeps the text a code block, whatever it holds.
    ticks = "`" * max([3, *(len(run) + 1 for run in _backtick_runs(text))])
    return f"{ticks}text\n{text}\n{ticks}"


def _backtick_runs(text: str) -> list[str]:
    runs, current = [], ""
    for char in text:
        if char == "`":
            current += char
        elif current:
            runs.append(current)
            current = ""
    return [*runs, current] if current else runs


def review_description(items: Sequence[tuple[ScoredTrace, str]]) -> str:
    """The Markdown above the form: per trace, why it needs review, its failed checks, the conversation."""
    lines = [
        f"## Review {len(items)} trace(s)",
        "For each trace choose **approve** (the output is acceptable) or **reject** (it counts as a "
        "failure), and say in `expected_<n>` what the agent should have done: that becomes the expected "
        "behaviour if the trace is promoted to a regression case. There is no default: every trace needs "
        "a decision.",
    ]
    for i, (scored, conversation) in enumerate(items, start=1):
        failed = [
            f"- {code_span(v.check, 60)}: {escape_markdown(v.reason or v.status, 400)}"
            for v in scored.verdicts
            if v.counts_as_failure
        ]
        quality = "n/a" if scored.quality is None else f"{scored.quality:.2f}"
        lines += [
            f"### {i}. trace {code_span(scored.trace_id, 80)} ({escape_markdown(scored.task_type, 60)})",
            f"Why: {escape_markdown(scored.review_reason or 'flagged', 300)}. Quality {quality}.",
            *(["Failed checks:", "\n".join(failed)] if failed else []),
            _fenced(conversation),
        ]
    return "\n\n".join(lines)


def _reviews(
    items: Sequence[tuple[ScoredTrace, str]], answer: Mapping[str, Any], decided_by: str
) -> list[Review]:
    now = datetime.now(UTC)
    return [
        Review(
            trace_id=scored.trace_id,
            decision=ReviewDecision.APPROVED
            if answer[f"decision_{i}"] == "approve"
            else ReviewDecision.REJECTED,
            decided_by=decided_by,
            expected=str(answer.get(f"expected_{i}", "")),
            note=str(answer.get("note", "")),
            decided_at=now,
        )
        for i, (scored, _) in enumerate(items, start=1)
    ]


def _review_batch(
    items: Sequence[tuple[ScoredTrace, str]], timeout_s: int, default: ReviewDecision, poll_interval_s: int
) -> list[Review]:
    run_id = flow_run.id
    timed_out = threading.Event()
    word = "approve" if default is ReviewDecision.APPROVED else "reject"
    default_input: dict[str, str] = {f"decision_{i}": word for i in range(1, len(items) + 1)}
    default_input["note"] = f"no decision within {timeout_s}s: default applied"

    def resume_with_default() -> None:
        try:
            resume_flow_run(run_id, run_input=default_input)
            timed_out.set()
        except (PrefectException, RuntimeError):  # a person answered first
            pass

    form = review_form(len(items)).with_initial_data(description=review_description(items))
    timer = threading.Timer(timeout_s, resume_with_default)
    timer.daemon = True
    timer.start()
    try:
        answer = pause_flow_run(
            wait_for_input=form,
            timeout=timeout_s + PAUSE_GRACE_S,
            poll_interval=poll_interval_s,
            key=REVIEW_KEY,
        )
    finally:
        timer.cancel()
    return _reviews(items, answer.model_dump(), "timeout" if timed_out.is_set() else "person")


def review_traces(
    scored: Sequence[ScoredTrace],
    sample: Sequence[SampledTrace] | None = None,
    *,
    max_reviews: int = 5,
    timeout_s: int = 3600,
    default: ReviewDecision = ReviewDecision.APPROVED,
    poll_interval_s: int = 10,
) -> list[Review]:
    """Ask a person, in one pause, about the traces needing review (worst first, at most `max_reviews`).

    sample: the sampled traces, in the order of `scored`, so the form shows each conversation. Each
    reviewed trace's `review` is set in place; the decisions are returned for storing. Traces beyond
    `max_reviews` stay unreviewed (reported as pending), so one bad hour cannot hold the run for days.
    """
    waiting = sorted(
        (s for s in scored if s.review_reason), key=lambda s: (s.quality is None, s.quality or 0)
    )[:max_reviews]
    if not waiting:
        return []
    # Only the traces under review are parsed again, not the whole sample.
    raw = {id(s): t for s, t in zip(scored, sample, strict=True)} if sample is not None else {}
    items = [
        (s, conversation_text(raw[id(s)].trace) if id(s) in raw else "(conversation not available)")
        for s in waiting
    ]
    get_run_logger().info("waiting for a review of %d trace(s) (one pause, key %s)", len(items), REVIEW_KEY)
    reviews = _review_batch(items, timeout_s, default, poll_interval_s)
    for item, review in zip(waiting, reviews, strict=True):
        item.review = review
    return reviews
