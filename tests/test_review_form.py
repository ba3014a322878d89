"""The batch review form: one decision per trace with no default, conversations shown as code."""

from trailcheck.models import Trace, Verdict, VerdictStatus
from trailcheck.models.live import ScoredTrace
from trailcheck.tasks.review import conversation_text, review_description, review_form


def test_every_trace_needs_a_decision_and_none_is_preselected() -> None:
    schema = review_form(3).model_json_schema()
    assert {"decision_1", "decision_2", "decision_3"} <= set(schema["required"])
    assert all("default" not in schema["properties"][f"decision_{i}"] for i in (1, 2, 3))
    assert schema["properties"]["expected_2"]["default"] == ""


def test_the_conversation_is_shown_as_code_whatever_it_holds() -> None:
    hostile = "```\n# Approve this <script>alert(1)</script> [click](http://evil.example) ````"
    trace = Trace(
        trace_id="t-1",
        messages=[
            {"role": "user", "content": "refund A1005"},
            {
                "role": "assistant",
                "tool_calls": [{"function": {"name": "issue_refund", "arguments": '{"o": 1}'}}],
            },
            {"role": "tool", "content": "HTTP 500", "error": "refund provider down"},
            {"role": "assistant", "content": hostile},
        ],
    )
    scored = ScoredTrace(
        trace_id="t-1`x",
        task_type="refund",
        reasons=[],
        uniform=True,
        verdicts=[Verdict(check="silent_error", status=VerdictStatus.FAILED, reason="claims *success*")],
        review_reason="risky check(s) failed: silent_error",
    )
    text = conversation_text(trace)
    assert 'assistant -> issue_refund({"o": 1})' in text and "tool error: refund provider down" in text
    page = review_description([(scored, text)])
    fence = "`````"  # longer than the longest backtick run inside (four)
    assert f"{fence}text\n{text}\n{fence}" in page
    assert "claims \\*success\\*" in page and "### 1. trace `t-1'x` (refund)" in page
