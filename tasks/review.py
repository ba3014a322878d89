"""Human review inside a flow run: pause with a typed form, wait for a person, or apply the default.

For each trace that needs review the flow pauses (`pause_flow_run(wait_for_input=ReviewInput)`);
the Prefect UI shows the trace's summary and a form (approve or reject, what was expected, a
note). Nobody answering within `timeout_s` must not fail the run: Prefect fails a flow run whose
pause expires, so the step resumes the run itself with the default decision just before, and
records it as decided by ``timeout``. Must be called from inside a flow run.
"""

import hashlib
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from prefect import get_run_logger
from prefect.exceptions import PrefectException
from prefect.flow_runs import pause_flow_run, resume_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run

from trailcheck.models.live import Review, ReviewDecision, ScoredTrace

# The pause itself outlives the default by this much, so the default always resumes it first.
PAUSE_GRACE_S = 60


class ReviewInput(RunInput):
    """The review form: approve or reject the agent's output; say what it should have done."""

    decision: Literal["approve", "reject"] = "approve"
    expected: str = ""
    note: str = ""


def review_description(scored: ScoredTrace) -> str:
    """The Markdown shown above the form."""
    failed = [f"- `{v.check}`: {v.reason or v.status}" for v in scored.verdicts if v.status == "failed"]
    quality = "n/a" if scored.quality is None else f"{scored.quality:.2f}"
    lines = [
        f"### Review trace `{scored.trace_id}` ({scored.task_type})",
        f"Why: {scored.review_reason}. Quality {quality}.",
        *(["Failed checks:", *failed] if failed else []),
        "Approve if the agent's output is acceptable; reject it (it then counts as a failure), and say what "
        "the agent should have done: that becomes the expected behaviour if the trace is promoted to a case.",
    ]
    return "\n\n".join(lines)


def _review_one(scored: ScoredTrace, timeout_s: int, default: ReviewDecision, poll_interval_s: int) -> Review:
    run_id = flow_run.id
    timed_out = threading.Event()
    default_input = {"decision": "approve" if default is ReviewDecision.APPROVED else "reject",
                     "expected": "", "note": f"no decision within {timeout_s}s: default applied"}  # fmt: skip

    def resume_with_default() -> None:
        try:
            resume_flow_run(run_id, run_input=default_input)
            timed_out.set()
        except (PrefectException, RuntimeError):  # a person answered first
            pass

    timer = threading.Timer(timeout_s, resume_with_default)
    timer.daemon = True
    form = ReviewInput.with_initial_data(
        description=review_description(scored), decision=default_input["decision"]
    )
    timer.start()
    try:
        answer = pause_flow_run(
            wait_for_input=form,
            timeout=timeout_s + PAUSE_GRACE_S,
            poll_interval=poll_interval_s,
            # Prefect input keys allow letters, digits and dashes only; trace ids may hold anything.
            key="review-" + hashlib.sha1(scored.trace_id.encode()).hexdigest()[:16],
        )
    finally:
        timer.cancel()
    return Review(
        trace_id=scored.trace_id,
        decision=ReviewDecision.APPROVED if answer.decision == "approve" else ReviewDecision.REJECTED,
        decided_by="timeout" if timed_out.is_set() else "person",
        expected=answer.expected,
        note=answer.note,
        decided_at=datetime.now(UTC),
    )


def review_traces(
    scored: Sequence[ScoredTrace],
    *,
    max_reviews: int = 5,
    timeout_s: int = 3600,
    default: ReviewDecision = ReviewDecision.APPROVED,
    poll_interval_s: int = 10,
) -> list[Review]:
    """Ask a person about the traces needing review, worst quality first, at most `max_reviews`.

    Each trace's `review` is set in place; the decisions are returned for storing. Traces beyond
    `max_reviews` stay unreviewed (reported as pending), so one bad hour cannot hold the run for days.
    """
    logger = get_run_logger()
    waiting = sorted(
        (s for s in scored if s.review_reason), key=lambda s: (s.quality is None, s.quality or 0)
    )
    reviews = []
    for item in waiting[:max_reviews]:
        logger.info("waiting for a review of trace %s: %s", item.trace_id, item.review_reason)
        item.review = _review_one(item, timeout_s, default, poll_interval_s)
        reviews.append(item.review)
    return reviews
