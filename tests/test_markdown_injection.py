"""Agent text in the Markdown artifact is data: parsed by a real Markdown parser, it adds no structure.

The summary is parsed with markdown-it-py (CommonMark plus GFM tables); whatever the agent said
(in reasons, case ids, versions), the document has no link, image or HTML, the same headings, and a
table with one row of four cells per failing case. Autolinks (``https://``, ``www.``, e-mail) are
checked on the raw text, since the Prefect UI's renderer (marked, GFM) links them.

To extend after merge: the Slack helper's mrkdwn renderer gets the same hostile strings (no
``<!channel>``, ``<http://...|text>`` links), and the judge's prompt builder a delimiter check.
"""

import re
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from trailcheck.models import CaseSummary, Comparison, Divergence, Regression, RunResult, SpoolReport
from trailcheck.render.markdown import render_summary_markdown

HOSTILE = [
    "[click](http://evil.example)",
    "![img](http://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "<a href='http://evil.example'>x</a>",
    "https://evil.example/path",
    "www.evil.example",
    "mail admin@evil.example",
    "| a | b |\n|---|---|\n| c | d |",
    "\n# Heading\n",
    "line\n\n## Injected section",
    "[ref]: http://evil.example",
    "[ref]",
    "`code` ``` fence",
    "&lt;script&gt;",
    "\\",
    "*bold* _it_ ~~strike~~",
    "<!-- comment -->",
    "javascript:alert(1)",
]
parser = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_AUTOLINK = re.compile(r"https?://|www\.|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)


def hostile_run(text: str) -> RunResult:
    bad = CaseSummary(case_id="bad", trials=1, passes=0, pass_at_1=0.0, reason=text, agent_failures=1)
    errored = CaseSummary(case_id="err", trials=1, passes=0, errored=1, pass_at_1=0.0, reason=text)
    return RunResult(
        run_id="r1",
        suite="s",
        suite_version=text,
        agent_version=text,
        trials=1,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        cases=[bad, errored],
        comparison=Comparison(
            baseline_run_id="r0",
            baseline_version=text,
            regressions=[
                Regression(
                    case_id="bad",
                    baseline_pass_rate=1.0,
                    current_pass_rate=0.0,
                    reason=text,
                    divergence=Divergence(step_index=1, baseline_step=text, current_step=text),
                )
            ],
            fixed=["x"],
        ),
        spool=SpoolReport(spooled=1, pending=True, path="/tmp/x", reason=text),
    )


def assert_no_injection(text: str) -> None:
    markdown = render_summary_markdown(hostile_run(text))
    tokens = parser.parse(markdown)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & {"link_open", "image", "html_inline", "html_block", "fence", "code_block"}, markdown
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert len(headings) == 3 and headings[1].startswith("Against baseline"), headings
    rows = [t for t in tokens if t.type == "tr_open"]
    cells = [t for t in tokens if t.type == "td_open"]
    assert (len(rows), len(cells)) == (3, 8), markdown  # a header row and two case rows of four cells
    # Autolinks need the scheme, 'www.' or an e-mail verbatim in the raw text outside code spans
    # (where nothing is a link); the escaping breaks them.
    outside_code = markdown
    for child in (c for t in tokens for c in (t.children or []) if c.type == "code_inline"):
        outside_code = outside_code.replace(f"`{child.content}`", "", 1)
    assert not _AUTOLINK.search(outside_code), _AUTOLINK.search(outside_code)


def test_known_injections_add_no_structure() -> None:
    for text in HOSTILE:
        assert_no_injection(text)
    assert_no_injection(" ".join(HOSTILE))


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("[]()<>!#|*_`~\\:/.@&-=+ \nabc123")), max_size=80))
def test_fuzzed_markdown_adds_no_structure(text: str) -> None:
    assert_no_injection(text)
