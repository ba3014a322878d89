"""The HTML report in a real browser: the bundled demo's runs, a fault matrix, a long session and live
traffic, all made by the real commands into one results database, then `trailcheck report` opened in
headless Chromium: every chart rendered (DOM), a screenshot taken, nothing fetched from the network.
"""

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.browser import dump_dom, screenshot
from trailcheck.cli import app
from trailcheck.models.report import ReportData
from trailcheck.render.html_report import CHARTS, render_html_report

SUITE = str(Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml")
runner = CliRunner()

# What each chart must have drawn: its SVG, and the marks of its kind of trace.
DRAWN = {
    "pass-rate": "scatterlayer",
    "cost": "scatterlayer",
    "cases": "barlayer",
    "fault-matrix": 'class="hm"',
    "retention": "scatterlayer",
    "health": "scatterlayer",
}


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1), f"trailcheck {' '.join(args)}: {result.output}\n{result.exception!r}"
    return result.output


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("html-report")
    url = f"sqlite:///{tmp / 'results.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAILCHECK_HOME", str(tmp / "home"))
        mp.delenv("TRAILCHECK_SLACK_TOKEN", raising=False)
        _ok(["demo", "--database-url", url])
        _ok(
            [
                "faults",
                SUITE,
                "--agent",
                "reference:v2",
                "--kinds",
                "http_500,empty_result",
                "--database-url",
                url,
            ]
        )
        _ok(["long-session", SUITE, "--agent", "reference:v3", "--ramp", "0,10", "--trials", "1",
             "--database-url", url])  # fmt: skip
        start = (datetime.now(UTC) - timedelta(hours=30)).strftime("%Y-%m-%dT%H:00:00")
        traces = tmp / "traces.jsonl"
        _ok(["generate-traces", str(traces), "--hours", "30", "--per-hour", "60", "--start", start,
             "--cost-drift-at", "20", "--silent-errors-from", "22"])  # fmt: skip
        _ok(["sample", str(traces), "--rate", "0.3", "--database-url", url])
        yield url


def _sections(dom: str) -> dict[str, str]:
    body = dom[dom.index("<body") :]
    return dict(re.findall(r'<section class="chart" data-chart="([a-z-]+)">(.*?)</section>', body, re.S))


def test_the_report_renders_every_chart_in_headless_chromium(database: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    written = _ok(["report", "--suite", "support-desk", "--out", str(out), "--database-url", database])
    [page] = list(out.glob("support-desk-*.html"))
    assert str(page) in written.replace("\n", "")
    source = page.read_text(encoding="utf-8")
    # Self-contained: every script inline, no stylesheet, image or frame loaded from anywhere.
    assert all("src=" not in tag for tag in re.findall(r"<script[^>]*>", source))
    assert not re.search(r"<(link|img|iframe)\b", source)

    dom = dump_dom(page.as_uri(), tmp_path / "profile-dom")
    sections = _sections(dom)
    assert list(sections) == list(CHARTS)
    for name, html in sections.items():
        assert "no-data" not in html, f"{name}: {html[:300]}"
        assert "js-plotly-plot" in html and 'class="main-svg"' in html, f"{name} was not drawn"
        assert DRAWN[name] in html, f"{name} has no {DRAWN[name]}"
    assert 'data-verdict="regressed"' in dom and "REGRESSED support-desk on reference-v2" in dom
    # The demo's two versions over time, and v2's failing cases against v1 ("baseline 1/1 -> now 0/1").
    assert sections["pass-rate"].count('class="trace scatter') == 2
    assert "baseline 1/1 -&gt; now 0/1" in sections["cases"] or "baseline 1/1 -> now 0/1" in sections["cases"]
    assert "issue_refund" in sections["fault-matrix"] and "http_500" in sections["fault-matrix"]
    assert "anomaly" in sections["health"]  # the generated cost drift and silent errors were flagged

    width, height = screenshot(
        page.as_uri(), tmp_path / "report.png", tmp_path / "profile-shot", (1280, 5200)
    )
    assert (width, height) == (1280, 5200)
    assert (tmp_path / "report.png").stat().st_size > 100_000  # a blank page compresses to a few KB


def test_a_run_id_report_and_bad_input(database: str, tmp_path: Path) -> None:
    from trailcheck import db

    v1 = next(
        r for r in db.list_runs(db.get_engine(database), "support-desk") if r.agent_version == "reference-v1"
    )
    _ok(["report", v1.run_id, "--out", str(tmp_path), "--database-url", database])
    page = (tmp_path / f"support-desk-{v1.run_id}.html").read_text(encoding="utf-8")
    assert 'data-verdict="pass"' in page
    missing = runner.invoke(app, ["report", "nope", "--out", str(tmp_path), "--database-url", database])
    assert missing.exit_code == 2 and "no run 'nope' in the results database" in missing.output
    both = runner.invoke(app, ["report", "x", "--suite", "y", "--database-url", database])
    assert both.exit_code == 2 and "either a RUN_ID or --suite" in both.output


def test_a_view_without_data_says_how_to_fill_it() -> None:
    page = render_html_report(ReportData(suite="s<x>", generated_at=datetime(2026, 12, 1, tzinfo=UTC)))
    assert page.count('<p class="no-data">') == len(CHARTS) + 1
    assert "`trailcheck faults SUITE --agent AGENT`" in page and "s&lt;x&gt;" in page and "s<x>" not in page
