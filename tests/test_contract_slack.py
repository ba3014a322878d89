"""A broken contract reaches Slack: the message names the tool, its owner and the unexpected values,
escaped; the `contracts` flow posts it through the real slack-sdk client to the local Slack API, and
a Slack failure leaves the findings and the stored run as they are."""

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contract_fixtures import INVENTORY, record_reference_responses
from tests.fakes.slack_server import FakeSlack, serve_slack
from tests.prefect_artifacts import run_artifacts
from trailcheck import db
from trailcheck.db.contracts import get_contract_run
from trailcheck.flows.contracts import contracts
from trailcheck.models import FailureCategory
from trailcheck.models.contract import ContractRunResult, ExpectationOutcome, ToolContractResult
from trailcheck.render.slack_contracts import render_contract_message
from trailcheck.slack import API_URL_ENV, CHANNEL_ENV, TOKEN_ENV

SNAPSHOT = Path(__file__).parent / "snapshots" / "slack_contract_message.json"
FLOW_RUN_URL = "http://127.0.0.1:4200/runs/flow-run/abc"
TOKEN = "xoxb-contracts-secret"
HOSTILE = "<!channel> see <http://evil.example|refund form> @here"


def result() -> ContractRunResult:
    broken_status = ExpectationOutcome(
        expectation="expect_column_values_to_be_in_set",
        column="status",
        kwargs={"value_set": ["processing", "shipped", "delivered"]},
        success=False,
        element_count=9,
        unexpected_count=2,
        unexpected_percent=22.2,
        examples=[HOSTILE, "lost & found"],
        example_sources=["run r1 case order-status trial 0 step 1", "run r1 case refund trial 0 step 1"],
    )
    return ContractRunResult(
        run_id="c0ffee",
        inventory="reference-support-desk",
        started_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        finished_at=datetime(2026, 11, 25, 3, 1, tzinfo=UTC),
        window_start=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
        window_end=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
        sources=["results database sqlite:///results.db"],
        tools=[
            ToolContractResult(
                tool="lookup_order",
                suite="lookup_order",
                owner="orders-team@example.com",
                responses=9,
                rows=9,
                outcomes=[
                    ExpectationOutcome(expectation="expect_column_to_exist", column="status", success=True),
                    broken_status,
                ],
            ),
            ToolContractResult(
                tool="lookup_account",
                suite="lookup_account",
                owner="crm-team@example.com",
                responses=4,
                rows=4,
                outcomes=[
                    ExpectationOutcome(expectation="expect_column_to_exist", column="tier", success=True)
                ],
            ),
        ],
        failed_calls=1,
        untracked_tools={"get_weather": 2},
    )


def test_contract_message_matches_the_reviewed_snapshot() -> None:
    message = render_contract_message(result(), FLOW_RUN_URL)
    rendered = json.dumps(message.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text(), "Slack message changed: review, then UPDATE_SNAPSHOTS=1"


def test_contract_message_names_tool_owner_and_examples_escaped() -> None:
    message = render_contract_message(result(), FLOW_RUN_URL)
    assert message.kind == "contracts" and message.subject == "reference-support-desk"
    assert message.text.startswith("FAIL contracts of reference-support-desk: 13 response(s) checked")
    assert message.blocks[0]["text"]["text"] == "❌ FAIL: contracts of reference-support-desk"
    everything = json.dumps([message.blocks, [r.blocks for r in message.thread]], ensure_ascii=False)
    assert "`lookup_order` owner orders-team@example.com" in everything
    assert "expect_column_values_to_be_in_set(status)" in everything and "2 unexpected" in everything
    assert "&lt;!channel&gt;" in everything and "lost &amp; found" in everything
    assert "<!channel>" not in everything and "<http://evil" not in everything and "@here" not in everything
    assert "lookup_account" not in json.dumps(message.blocks[3:4])  # only broken tools are listed
    assert "run r1 case order-status trial 0 step 1" in json.dumps(message.thread[0].blocks)
    assert message.blocks[-1]["elements"][0]["url"] == FLOW_RUN_URL

    kept = result().model_copy(update={"tools": result().tools[1:]})
    ok = render_contract_message(kept)
    assert ok.text.startswith("PASS") and "every contract kept" in ok.text and ok.thread == []


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with serve_slack(token=TOKEN, channels={"#contracts": "C0CONTRACT"}) as server:
        yield server


@pytest.fixture
def slack_env(slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    slack.reset()
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(CHANNEL_ENV, "#contracts")
    monkeypatch.setenv(API_URL_ENV, slack.base_url)
    return slack


def _trace(i: int, tool: str, response: object) -> dict:
    call = {"id": f"c{i}", "type": "function", "function": {"name": tool, "arguments": "{}"}}
    return {
        "trace_id": f"t-{i}",
        "timestamp": datetime.now(UTC).isoformat(),
        "messages": [
            {"role": "user", "content": "help"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": json.dumps(response)},
            {"role": "assistant", "content": "done"},
        ],
    }




def _broken_traces(tmp_path: Path) -> Path:
    """Real responses of the reference tools, and one lookup_order whose status is hostile text."""
    recorded = record_reference_responses()
    order = next(r.response for r in recorded if r.tool == "lookup_order")
    assert isinstance(order, dict)
    lines = [_trace(i, r.tool, r.response) for i, r in enumerate(recorded)]
    lines.append(_trace(100, "lookup_order", {**order, "status": HOSTILE}))
    traces = tmp_path / "traces.jsonl"
    traces.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return traces


@pytest.mark.usefixtures("prefect_harness")
def test_contracts_check_says_where_slack_got_it_and_no_notify_stays_quiet(
    slack_env: FakeSlack, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from trailcheck.cli import app

    traces = _broken_traces(tmp_path)
    args = ["contracts", "check", str(INVENTORY), "--traces", str(traces), "--no-database"]
    args += ["--database-url", f"sqlite:///{tmp_path / 'results.db'}"]
    posted = CliRunner().invoke(app, args)
    assert posted.exit_code == 1, posted.output
    assert "Slack: posted to" in posted.output and len(slack_env.posts) == 2
    slack_env.reset()
    quiet = CliRunner().invoke(app, [*args, "--no-notify"])
    assert quiet.exit_code == 1 and "Slack:" not in quiet.output and slack_env.posts == []


@pytest.mark.usefixtures("prefect_harness")
def test_the_contracts_flow_posts_the_break_to_slack(
    slack_env: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traces = _broken_traces(tmp_path)
    url = f"sqlite:///{tmp_path / 'results.db'}"

    found = contracts(inventory=str(INVENTORY), traces=str(traces), use_database=False, database_url=url)
    [notification] = found.notifications
    assert notification.delivered and notification.error is None and notification.thread_replies == 1
    main, reply = slack_env.posts
    assert main["channel"] == "C0CONTRACT" and reply["thread_ts"] == main["ts"]
    assert main["text"].startswith("FAIL contracts of reference-support-desk")
    posted = json.dumps(main["blocks"], ensure_ascii=False)
    assert "`lookup_order` owner orders-team@example.com" in posted
    assert "&lt;!channel&gt; see &lt;http://evil.example|refund form&gt;" in posted
    assert "<!channel>" not in posted and "@here" not in posted
    assert "trace t-100 step 1" in json.dumps(reply["blocks"])
    [finding] = found.findings
    assert finding.tool == "lookup_order" and finding.failure_category is FailureCategory.INTEGRATION
    link = run_artifacts(found.flow_run_id, "contracts-reference-support-desk-slack")
    assert link and f"]({notification.permalink})" in (link[0].data or "")  # Markdown: [text](link)

    # Slack refusing the token changes nothing but the notification.
    monkeypatch.setenv(TOKEN_ENV, "xoxb-revoked")
    slack_env.reset()
    again = contracts(inventory=str(INVENTORY), traces=str(traces), use_database=False, database_url=url)
    [failed] = again.notifications
    assert not failed.delivered and "invalid_auth" in (failed.error or "") and slack_env.posts == []
    assert again.findings == found.findings
    stored = get_contract_run(db.get_engine(url), again.run_id)
    assert stored == again.model_copy(update={"notifications": []})
