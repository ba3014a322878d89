"""Secrets never leave: a planted API key and agent token are searched for in every output of real runs.

Outputs searched: captured logs at DEBUG, the Prefect API's logs and artifacts (read back through
the Prefect client), every table of the results database, the report JSON, the CLI output. The
agents are hostile on purpose: they echo the token they were sent, and the model's provider echoes
the key in its error, as real ones do. Personal data in trace content (an email, a card number) is
redacted the same way.

The runs also post to Slack (a local Slack Web API, through the real slack-sdk client): what Slack
received is searched too, for the Slack token and for everything above.
"""

import asyncio
import base64
import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI, Request
from prefect.client.orchestration import get_client
from sqlalchemy import create_engine, inspect, make_url, text
from typer.testing import CliRunner

from tests.fakes.openai_server import FakeOpenAI, api_error, completion, tool_call
from tests.fakes.slack_server import FakeSlack, serve_slack
from tests.faults import closed_port
from tests.live_data import trace_dict
from trailcheck import cli
from trailcheck.redaction import RedactionConfig, Redactor
from trailcheck.serving import serve_in_thread
from trailcheck.slack import API_URL_ENV, CHANNEL_ENV, TOKEN_ENV

pytestmark = pytest.mark.usefixtures("prefect_harness")
LLM_KEY = "sk-plantedKEY0123456789abcdefXYZ"
AGENT_TOKEN = "tok-planted/4242+QQQ=zz9"  # no known key format; URL-encoding changes it
EMAIL = "jane.doe@example.com"
CARD = "4111 1111 1111 1111"
SLACK_TOKEN = "xoxb-planted-slack-7777-secret"
PLANTED = [
    LLM_KEY,
    AGENT_TOKEN,
    quote(AGENT_TOKEN, safe=""),
    base64.b64encode(AGENT_TOKEN.encode()).decode(),
    SLACK_TOKEN,
    EMAIL,
    CARD,
    CARD.replace(" ", ""),
]


def hostile_agent() -> FastAPI:
    """Echoes the Authorization header it got into its reply and tool calls, with PII around it."""
    app = FastAPI()

    @app.post("/chat")
    async def chat(request: Request) -> dict[str, Any]:
        token = request.headers.get("authorization", "none")
        bare = token.split(" ", 1)[-1]  # without its scheme, as a careless log line prints it
        body = await request.json()
        return {
            "reply": f"Done. Card {CARD} on file for {EMAIL}. (debug: auth={token}) token {bare} "
            f"url ?t={quote(bare, safe='')} b64 {base64.b64encode(bare.encode()).decode()}",
            "tool_calls": [
                {
                    "name": "lookup",
                    "args": {"auth": token, "bare": bare, "q": body["message"]},
                    "result": {"email": EMAIL},
                    "error": f"upstream refused token {bare}",
                }
            ],
        }

    @app.post("/tool")
    async def tool(request: Request) -> dict[str, Any]:
        return {"card": CARD.replace(" ", ""), "owner": EMAIL, "echo": await request.json()}

    return app


@pytest.fixture(scope="module")
def agent_url() -> Iterator[str]:
    with serve_in_thread(hostile_agent()) as base:
        yield base


@pytest.fixture(scope="module")
def model() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with serve_slack(token=SLACK_TOKEN, channels={"#agent-ci": "C0AGENTCI"}) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setenv("TC_PLANTED_LLM_KEY", LLM_KEY)
    monkeypatch.setenv("TC_PLANTED_AGENT_AUTH", f"Bearer {AGENT_TOKEN}")
    return tmp_path


def write_suite(home: Path) -> Path:
    suite = home / "secrets.yaml"
    suite.write_text(
        "name: secrets\nversion: '1'\ncases:\n"
        "  - id: refund\n    turns: [Refund my order A1001]\n"
        "  - id: status\n    turns: [Where is A1002?]\n"
    )
    return suite


def everything_written(home: Path, cli_output: str, caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Every output of the runs, by where it was found."""
    # The CLI wraps long lines: a token cut in two must be found too.
    outputs = {
        "cli output": cli_output,
        "cli output unwrapped": "".join(cli_output.split()),
        "captured logs": caplog.text,
    }
    files = [
        p for pattern in ("*.json*", "*.xml", "*.md") for p in home.rglob(pattern)
    ]  # reports, JUnit, spool
    outputs |= {f"file {p.relative_to(home)}": p.read_text(errors="replace") for p in files}
    engine = create_engine(f"sqlite:///{home / 'results.db'}")
    try:
        with engine.connect() as conn:
            for table in inspect(engine).get_table_names():
                rows = conn.execute(text(f"SELECT * FROM {table}")).all()
                # Each value in full: a Row's repr shortens long strings, which would hide a leak.
                outputs[f"table {table}"] = "\n".join(" | ".join(map(str, row)) for row in rows)
    finally:
        engine.dispose()

    async def every(read: Any) -> list[Any]:
        """All pages: the API answers at most 200 items a call."""
        items: list[Any] = []
        while page := await read(limit=200, offset=len(items)):
            items += page
        return items

    async def prefect_side() -> dict[str, str]:
        async with get_client() as client:
            artifacts = await every(client.read_artifacts)
            logs = await every(client.read_logs)
            runs = await every(client.read_flow_runs)
        return {
            "prefect artifacts": "\n".join(f"{a.data} {a.description}" for a in artifacts),
            "prefect logs": "\n".join(log.message for log in logs),
            "prefect flow-run parameters": "\n".join(repr(r.parameters) for r in runs),
        }

    from prefect.settings import get_current_settings

    connection_url = get_current_settings().server.database.connection_url
    secret = connection_url.get_secret_value() if connection_url is not None else ""
    prefect_db = make_url(secret).database if secret else None
    if prefect_db and Path(prefect_db).is_file():  # Prefect's own database, byte for byte
        outputs["prefect database file"] = Path(prefect_db).read_bytes().decode(errors="replace")
    return outputs | asyncio.run(prefect_side())


def test_planted_secrets_and_pii_appear_in_no_output(
    home: Path,
    agent_url: str,
    model: tuple[FakeOpenAI, str],
    slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv(TOKEN_ENV, SLACK_TOKEN)
    monkeypatch.setenv(CHANNEL_ENV, "#agent-ci")
    monkeypatch.setenv(API_URL_ENV, slack.base_url)
    fake, model_url = model
    fake.load(
        [
            completion(tool_calls=[tool_call("lookup", {"email": EMAIL})]),
            completion(f"Refunded. Key in use: {LLM_KEY}; receipt sent to {EMAIL}."),
            api_error(401, f"Incorrect API key provided: {LLM_KEY}. You can find your API key at ..."),
        ]
    )
    http_agent = home / "http-agent.yaml"
    http_agent.write_text(
        f"kind: http\nurl: {agent_url}/chat\nheaders_env: {{Authorization: TC_PLANTED_AGENT_AUTH}}\n"
    )
    openai_agent = home / "openai-agent.yaml"
    openai_agent.write_text(
        f"kind: openai\nbase_url: {model_url}/v1\nmodel: m\napi_key_env: TC_PLANTED_LLM_KEY\n"
        f"tools:\n  - name: lookup\n    url: {agent_url}/tool\n"
    )
    suite = write_suite(home)
    runner = CliRunner()
    output = ""
    down = f"postgresql://postgres@127.0.0.1:{closed_port()}/test"
    for agent, database in ((http_agent, None), (openai_agent, None), (http_agent, down)):
        report = str(home / f"report-{agent.stem}-{bool(database)}.json")
        junit = str(home / f"junit-{agent.stem}-{bool(database)}.xml")
        args = ["run", str(suite), "--agent", str(agent), "--concurrency", "1", "--report-json", report,
                "--junit", junit, *(["--database-url", database] if database else [])]  # fmt: skip
        result = runner.invoke(cli.app, args)
        assert result.exit_code in (0, 1), result.output
        output += result.output
    assert list(home.rglob("spool/*/*.jsonl")), "the run against a database that is down spooled"
    # Live sampling: production traces that carry the token, named by $TRAILCHECK_REDACT_SECRET_ENV.
    monkeypatch.setenv("TRAILCHECK_REDACT_SECRET_ENV", "TC_PLANTED_AGENT_AUTH")
    traces = Path(tempfile.mkdtemp()) / "prod.jsonl"  # the input: outside the outputs searched
    traces.write_text(
        "".join(
            json.dumps(trace_dict(i, tool_error=True, answer=f"Done, Bearer {AGENT_TOKEN} for {EMAIL}"))
            + "\n"
            for i in range(5)
        )
    )
    sampled = runner.invoke(cli.app, ["sample", str(traces), "--rate", "1"])
    assert sampled.exit_code in (0, 1), sampled.output
    output += sampled.output
    # The agents did receive the secrets (so there was something to leak) ...
    assert fake.headers[0]["authorization"] == f"Bearer {LLM_KEY}"
    written = everything_written(home, output, caplog)
    assert len([p for p in slack.posts if "thread_ts" not in p]) == 4  # each run was announced
    written["slack messages received"] = repr(slack.posts)
    # ... and the runs did record the agents' words, redacted.
    assert "auth=[REDACTED:secret]" in written["table trajectories"]  # the echoed agent token
    assert (
        "token [REDACTED:secret] url ?t=[REDACTED:secret] b64 [REDACTED:secret]"
        in written["table trajectories"]
    )
    assert "[REDACTED:secret]" in written["table live_scores"]  # the production trace, stored redacted
    assert "Key in use: [REDACTED:secret]" in written["table trajectories"]  # the echoed API key
    assert (
        "redacted@redacted.invalid" in written["table trajectories"]
        and "[REDACTED:card]" in written["table trajectories"]
    )
    assert "Incorrect API key provided: ***" in written["table case_results"]  # the provider's echo
    leaks = [
        f"{secret!r} in {where}" for where, body in written.items() for secret in PLANTED if secret in body
    ]
    assert leaks == []


def test_a_missing_header_variable_is_bad_input(home: Path, agent_url: str) -> None:
    agent = home / "agent.yaml"
    agent.write_text(
        f"kind: http\nurl: {agent_url}/chat\nheaders_env: {{Authorization: TC_NOT_SET_ANYWHERE}}\n"
    )
    result = CliRunner().invoke(cli.app, ["run", str(write_suite(home)), "--agent", str(agent)])
    assert result.exit_code == 2
    assert "TC_NOT_SET_ANYWHERE" in result.output


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mail me: a.b+c@sub.example.co.uk.", "mail me: redacted@redacted.invalid."),
        ("card 4111-1111-1111-1111 ok", "card [REDACTED:card] ok"),
        ("order 1234567890123 is not a card", "order 1234567890123 is not a card"),  # fails Luhn
        ("Authorization: Bearer abc.def-ghi_jkl", "Authorization: [REDACTED:bearer]"),
        (
            "key sk-proj-abcdefghijklmnop1234 and AKIAABCDEFGHIJKLMNOP",
            "key [REDACTED:api_key] and [REDACTED:api_key]",
        ),
        ("jwt eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl", "jwt [REDACTED:jwt]"),
        ("order A1001 for $42.50", "order A1001 for $42.50"),
    ],
)
def test_default_patterns(raw: str, expected: str) -> None:
    assert Redactor().text(raw) == expected


def test_configuration_custom_patterns_off_and_secrets_always(monkeypatch: pytest.MonkeyPatch) -> None:
    custom = Redactor(RedactionConfig(patterns=[r"(?i:employee-\d+)"], builtin=["email"]))
    assert (
        custom.text("EMPLOYEE-77 x@y.io 4111111111111111")
        == "[REDACTED:custom] redacted@redacted.invalid 4111111111111111"
    )
    off = Redactor(RedactionConfig(enabled=False), secrets=["s3cr3t-value"])
    assert off.text("x@y.io s3cr3t-value") == "x@y.io [REDACTED:secret]"
    monkeypatch.setenv("TRAILCHECK_REDACT", "card")
    monkeypatch.setenv("TRAILCHECK_REDACT_PATTERNS", "ticket-[0-9]+\n")
    config = RedactionConfig.from_env(["extra"])
    assert config.builtin == ["card"] and config.patterns == ["ticket-[0-9]+", "extra"] and config.enabled
    monkeypatch.setenv("TRAILCHECK_REDACT", "off")
    assert not RedactionConfig.from_env().enabled
    with pytest.raises(ValueError, match=r"global flags.*scope flags"):
        RedactionConfig(patterns=["(?i)x"])
    with pytest.raises(ValueError, match="unknown redaction pattern"):
        RedactionConfig(builtin=["ssn"])
