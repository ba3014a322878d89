"""Deployments end to end, the way a team runs them: every part real except Slack.

A real `prefect server start` on 127.0.0.1 (its own PREFECT_HOME and SQLite), the process work
pool, `prefect deploy --all` from prefect.yaml, a `prefect worker start`, and then
`trailcheck notify-change`: the change event must trigger an `on-change-regression` flow run
whose parameters come from the event, whose results land in the results database, and whose
Slack message reaches the local Slack API. Every process is started in its own process group
and killed at the end, whatever happens.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.fakes.slack_server import FakeSlack, serve_slack
from trailcheck import db
from trailcheck.agents.reference import serve_reference

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TOKEN = "xoxb-e2e-token"
POOL = "trailcheck-process"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def post_created(what: str, url: str, body: Any) -> httpx.Response:
    """POST until the server answers 201: a busy SQLite makes it answer 503 now and then (the CLI
    and Prefect's client retry those too); any other answer fails the test."""

    def post() -> httpx.Response | None:
        response = httpx.post(url, json=body, timeout=10)
        assert response.status_code in (201, 503), response.text
        return response if response.status_code == 201 else None

    return cast(httpx.Response, wait_for(what, post, 30, every=1))


@dataclass
class Processes:
    """Processes started for the test, each in its own group, all killed by `stop_all`."""

    logs: Path
    started: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, proc))
        return proc

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop_all(self) -> None:
        for _, proc in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _, proc in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The group too: a worker's flow-run subprocesses must not outlive it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        args, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@dataclass
class Deployed:
    api: str
    env: dict[str, str]
    slack: FakeSlack
    agent_url: str
    results_url: str
    processes: Processes
    timings: dict[str, float]
    home: Path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    tmp = tmp_path_factory.mktemp("deploy-e2e")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    results_url = f"sqlite:///{tmp / 'results.db'}"
    timings: dict[str, float] = {}
    started = time.monotonic()
    processes = Processes(tmp)
    with serve_slack(token=TOKEN, channels={"#agent-ci": "C0AGENTCI"}) as slack, serve_reference("v1") as ref:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TRAILCHECK_"))}
        env.update(
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            PREFECT_HOME=str(tmp / "prefect-home"),
            PREFECT_API_URL=api,
            PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{tmp / 'prefect.db'}",
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_CLI_PROMPT="false",
            # Fast polling: the worker asks for due runs every second.
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="5",
            PREFECT_RUNNER_POLL_FREQUENCY="1",
            # The scheduler looks for deployments to schedule every second (default 60) and keeps at
            # most 3 runs ahead per deployment, so a 10 s interval schedule fires within the test.
            PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1",
            PREFECT_SERVER_SERVICES_SCHEDULER_MAX_RUNS="3",
            TRAILCHECK_DATABASE_URL=results_url,
            TRAILCHECK_HOME=str(tmp / "trailcheck-home"),
            TRAILCHECK_SLACK_TOKEN=TOKEN,
            TRAILCHECK_SLACK_CHANNEL="#agent-ci",
            TRAILCHECK_SLACK_API_URL=slack.base_url,
        )
        try:
            processes.start(
                "server",
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                env,
                tmp,
            )

            def healthy() -> bool:
                try:
                    return httpx.get(f"{api}/health", timeout=2).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_for(f"the Prefect server on port {port}\n{processes.log('server')}", healthy, 120)
            timings["server up"] = time.monotonic() - started
            run_cli([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], env)
            run_cli([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], env)
            timings["deployed"] = time.monotonic() - started
            processes.start(
                "worker", [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--limit", "2"], env, REPO
            )
            yield Deployed(
                api, env, slack, ref.agent_url, results_url, processes, timings, tmp / "trailcheck-home"
            )
        finally:
            processes.stop_all()
            db.dispose_engines()
            print("\ndeployment e2e timings (s since start):", {k: round(v, 1) for k, v in timings.items()})


def _deployment(api: str, name: str, flow: str = "regression") -> dict[str, Any]:
    response = httpx.get(f"{api}/deployments/name/{flow}/{name}", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _flow_runs(api: str, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}}
    response = httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def test_deployments_from_prefect_yaml(deployed: Deployed) -> None:
    nightly = _deployment(deployed.api, "nightly-regression")
    schedule = nightly["schedules"][0]["schedule"]
    assert schedule["cron"] == "0 2 * * *" and schedule["timezone"] == "Europe/Berlin"
    assert nightly["parameters"]["baseline_version"] == "last-accepted"
    assert nightly["work_pool_name"] == POOL
    on_change = _deployment(deployed.api, "on-change-regression")
    assert on_change["work_pool_name"] == POOL
    # No static trigger tags: a run says what really started it (schedule, event, manual).
    assert not [t for t in on_change["tags"] + nightly["tags"] if t.startswith("trigger:")]
    automations = httpx.post(f"{deployed.api}/automations/filter", json={}, timeout=10).json()
    named = {a["name"]: a for a in automations}
    assert "trailcheck-on-agent-change" in named, list(named)
    assert "notify-change" in named["trailcheck-on-agent-change"]["description"]
    checks = _deployment(deployed.api, "contract-checks", flow="contracts")
    schedule = checks["schedules"][0]["schedule"]
    assert schedule["cron"] == "30 3 * * *" and schedule["timezone"] == "Europe/Berlin"
    assert checks["parameters"] == {"inventory": "agents/reference/contracts/tools.yaml", "hours": 24}
    assert checks["work_pool_name"] == POOL and checks["entrypoint"] == "flows/contracts.py:contracts"


def test_a_change_event_runs_the_regression_then_contract_checks_judge_its_responses(
    deployed: Deployed,
) -> None:
    """One story in order (tests run in random order, so it is one test): the event's run records tool
    responses, and the contract-checks deployment then validates them."""
    started = time.monotonic()
    sent = run_cli(
        [
            str(BIN / "trailcheck"),
            "notify-change",
            "--model",
            "support-model-2026-11",
            "--prompt-version",
            "p42",
            "--agent",
            deployed.agent_url,
        ],
        deployed.env,
    )
    assert "sent trailcheck.agent.changed" in sent.stdout
    deployment_id = _deployment(deployed.api, "on-change-regression")["id"]
    runs = wait_for(
        f"a flow run of on-change-regression\nserver log:\n{deployed.processes.log('server')}",
        lambda: _flow_runs(deployed.api, deployment_id),
        90,
    )
    deployed.timings["event -> flow run created"] = time.monotonic() - started

    def finished() -> dict[str, Any] | None:
        run = next(r for r in _flow_runs(deployed.api, deployment_id) if r["id"] == runs[0]["id"])
        state = run["state"]["type"]
        return run if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    run = wait_for(f"the flow run to finish\nworker log:\n{deployed.processes.log('worker')}", finished, 180)
    deployed.timings["event -> flow run finished"] = time.monotonic() - started
    assert run["state"]["type"] == "COMPLETED", deployed.processes.log("worker")
    params = run["parameters"]
    assert params["model"] == "support-model-2026-11" and params["prompt_version"] == "p42"
    assert params["agent"] == deployed.agent_url and params["trigger"] == "change"
    assert run["name"] == "regression-support-desk-support-model-2026-11@p42"
    assert {"suite:support-desk", "version:support-model-2026-11@p42", "trigger:change"} <= set(run["tags"])

    # The results database holds the run, labelled with the event's model and prompt version.
    engine = db.get_engine(deployed.results_url)
    stored = [r for r in db.list_runs(engine, "support-desk") if r.flow_run_id == run["id"]]
    assert len(stored) == 1  # (other tests of this module add runs of their own)
    result = stored[0]
    assert result.flow_run_id == run["id"] and result.agent_version == "support-model-2026-11@p42"
    assert result.labels == {
        "agent": deployed.agent_url,
        "model": "support-model-2026-11",
        "prompt_version": "p42",
        "trigger": "change",
    }
    assert result.ok and result.trials == 3
    assert len(db.load_case_results(engine, result.run_id)) == 3 * len(result.cases)

    # Slack got the message, with a link to this flow run.
    # (other tests of this module may have posted their own runs' messages)
    posts = [p for p in deployed.slack.posts if run["id"] in str(p["blocks"])]
    assert len(posts) == 1, deployed.slack.methods()
    assert posts[0]["channel"] == "C0AGENTCI"
    assert posts[0]["text"].startswith("PASS support-desk on support-model-2026-11@p42")
    assert run["id"] in str(posts[0]["blocks"])
    assert "chat.getPermalink" in deployed.slack.methods()

    # The run's HTML report was written under TRAILCHECK_HOME, and says PASS.
    report = deployed.home / "reports" / f"support-desk-{result.run_id}.html"
    assert 'data-verdict="pass"' in report.read_text(encoding="utf-8")

    # The contract checks over the last 24 hours see the tool responses the run above recorded.
    checks_id = _deployment(deployed.api, "contract-checks", flow="contracts")["id"]
    created = post_created(
        "the contract checks run", f"{deployed.api}/deployments/{checks_id}/create_flow_run", {}
    )
    checks_run_id = created.json()["id"]

    def checked() -> dict[str, Any] | None:
        run = next(r for r in _flow_runs(deployed.api, checks_id) if r["id"] == checks_run_id)
        state = run["state"]["type"]
        return run if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    checks_run = wait_for(
        f"contract-checks to finish\nworker log:\n{deployed.processes.log('worker')}", checked, 180
    )
    assert checks_run["state"]["type"] == "COMPLETED", deployed.processes.log("worker")
    assert checks_run["name"] == "contracts-tools"
    posts = [p for p in deployed.slack.posts if p["text"].startswith(("PASS contracts", "FAIL contracts"))]
    assert len(posts) == 1, deployed.slack.methods()
    assert posts[0]["text"].startswith("PASS contracts of reference-support-desk")
    assert " 0 response(s)" not in posts[0]["text"]  # the regression run's responses were checked


def _scheduled_ahead(api: str, deployment_id: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [
        r
        for r in _flow_runs(api, deployment_id)
        if r["state"]["type"] == "SCHEDULED"
        and r["auto_scheduled"]
        and datetime.fromisoformat(r["expected_start_time"]) > now
    ]


def test_schedules_fire_and_the_worker_runs_the_scheduled_runs(deployed: Deployed) -> None:
    """The scheduler creates runs (it did not with SQLAlchemy 2.1) and the worker executes them."""
    started = time.monotonic()
    berlin = ZoneInfo("Europe/Berlin")
    for flow, name, (hour, minute) in [
        ("regression", "nightly-regression", (2, 0)),
        ("contracts", "contract-checks", (3, 30)),
    ]:
        deployment_id = _deployment(deployed.api, name, flow=flow)["id"]
        ahead = wait_for(
            f"scheduled runs of {name}\nserver log:\n{deployed.processes.log('server')}",
            lambda deployment_id=deployment_id: _scheduled_ahead(deployed.api, deployment_id),
            60,
        )
        local = [datetime.fromisoformat(r["expected_start_time"]).astimezone(berlin) for r in ahead]
        assert all((t.hour, t.minute) == (hour, minute) for t in local), local
        assert len({t.date() for t in local}) == len(local)  # one a night
    deployed.timings["nightly runs scheduled"] = time.monotonic() - started

    # The live-sampling deployment, as deployed (its default source does not exist on a fresh
    # install), on a fast interval added beside its 15-minute one.
    live = _deployment(deployed.api, "live-sampling", flow="live_sampling")

    created = post_created(
        "the interval schedule to be added",
        f"{deployed.api}/deployments/{live['id']}/schedules",
        [{"schedule": {"interval": 10, "timezone": "Europe/Berlin"}, "active": True}],
    )
    schedule_id = created.json()[0]["id"]
    try:

        def two_completed() -> list[dict[str, Any]]:
            runs = [r for r in _flow_runs(deployed.api, live["id"]) if r["auto_scheduled"]]
            bad = [r for r in runs if r["state"]["type"] in ("FAILED", "CRASHED")]
            assert not bad, f"{bad[0]['state']}\nworker log:\n{deployed.processes.log('worker')}"
            done = [r for r in runs if r["state"]["type"] == "COMPLETED"]
            return done if len(done) >= 2 else []

        done = wait_for(
            f"two scheduled live-sampling runs to complete\nworker log:\n{deployed.processes.log('worker')}",
            two_completed,
            120,
            every=1,
        )
    finally:
        httpx.delete(f"{deployed.api}/deployments/{live['id']}/schedules/{schedule_id}", timeout=10)
    deployed.timings["two interval runs executed"] = time.monotonic() - started
    for run in done:
        message = run["state"]["message"]
        expected = (
            f"Live sampling: nothing to sample: {deployed.home}/traces/production.jsonl: no such trace file"
        )
        assert message.startswith(expected), message
        assert "trigger:schedule" in run["tags"]
    # Nothing to say, nothing posted: an idle source must not post every 15 minutes.
    assert not [p for p in deployed.slack.posts if "Live sampling" in p["text"]]


def test_a_failing_regression_run_is_red_in_the_prefect_ui_with_its_verdict(
    deployed: Deployed, tmp_path: Path
) -> None:
    """A run whose verdict fails it ends Failed with the verdict line, and the UI's run list shows it."""
    from tests.browser import dump_dom, screenshot

    deployment_id = _deployment(deployed.api, "regression")["id"]
    created = post_created(
        "the v2 regression run",
        f"{deployed.api}/deployments/{deployment_id}/create_flow_run",
        {"parameters": {"agent": "reference:v2", "baseline_version": "last-accepted", "notify": False}},
    )
    run_id = created.json()["id"]

    def finished() -> dict[str, Any] | None:
        run = httpx.get(f"{deployed.api}/flow_runs/{run_id}", timeout=10).json()
        return run if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

    run = wait_for(f"the v2 regression run to finish\n{deployed.processes.log('worker')}", finished, 180)
    state = run["state"]
    assert state["type"] == "FAILED" and state["name"] == "Failed", state
    # REGRESSED against the change-triggered run when that ran first, else FAIL (no baseline yet).
    assert state["message"].startswith(
        ("REGRESSED support-desk on reference-v2", "FAIL support-desk on reference-v2")
    )
    verdict = "verdict:regressed" if state["message"].startswith("REGRESSED") else "verdict:fail"
    assert {verdict, "trigger:manual"} <= set(run["tags"])

    ui = deployed.api.removesuffix("/api")
    page = f"{ui}/runs/flow-run/{run_id}"
    dom = dump_dom(page, tmp_path / "profile-dom", budget_ms=20_000)
    keep = os.environ.get("TRAILCHECK_KEEP_SCREENSHOTS")
    if keep:  # for a person to look at: the UI as a team sees it
        Path(keep).mkdir(parents=True, exist_ok=True)
        (Path(keep) / "failed-run.html").write_text(dom)
    assert run["name"] in dom, dom[-2000:]
    assert "Failed" in dom and verdict in dom  # the red state badge and the verdict tag
    # (the state message is not on the page: the API above holds it, the screenshot shows the badge)
    width, _ = screenshot(page, tmp_path / "failed-run.png", tmp_path / "profile-shot", (1400, 900), 20_000)
    assert width == 1400
    listing = dump_dom(f"{ui}/runs", tmp_path / "profile-list", budget_ms=20_000)
    row = listing[listing.find(run["name"]) :]
    assert run["name"] in listing and "Failed" in row[:3000] and verdict in row[:3000]
    screenshot(f"{ui}/runs", tmp_path / "run-list.png", tmp_path / "profile-list-shot", (1400, 900), 20_000)
    if keep:
        for name in ("failed-run.png", "run-list.png"):
            (Path(keep) / name).write_bytes((tmp_path / name).read_bytes())
