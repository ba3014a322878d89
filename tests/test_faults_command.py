"""`trailcheck faults` and `run` with faults, end to end: reference agent, gateway, regression flow, DB."""

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from trailcheck import cli, db
from trailcheck.cli import app
from trailcheck.cli import faults as faults_module
from trailcheck.loading.suite import load_suite
from trailcheck.models import FaultKind, ToolCall

runner = CliRunner()
SUITE = """
name: small
cases:
  - id: status
    turns: ["Where is my order A1002?"]
    expectations:
      tool_calls: [{name: lookup_order, args: {order_id: A1002}}]
      final_answer: {contains: [shipped]}
      never_call: [issue_refund]
  - id: refund
    turns: ["Please refund order A1001."]
    expectations:
      tool_calls: {mode: superset, calls: [issue_refund]}
      final_answer: {contains: [refund], not_contains: [processed]}
      escalate: false
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAILCHECK_HOME", str(tmp_path))
    monkeypatch.delenv("TRAILCHECK_DATABASE_URL", raising=False)
    monkeypatch.setattr(cli.out, "width", 200)
    monkeypatch.setattr(faults_module.out, "width", 200)
    (tmp_path / "small.yaml").write_text(SUITE)
    return tmp_path


@pytest.mark.usefixtures("prefect_harness")
def test_v1_passes_the_matrix_and_v2_fails_the_refund_path(home: Path) -> None:
    suite = str(home / "small.yaml")
    good = runner.invoke(app, ["faults", suite, "--agent", "reference:v1", "--kinds", "http_500,injection"])
    assert good.exit_code == 0, good.output
    assert "PASS fault matrix of small on reference-v1" in good.output
    matrix_file = home / "faults" / "small-faults.yaml"
    written = load_suite(matrix_file)
    assert [c.id for c in written.cases] == [
        "status:lookup_order:http_500",
        "status:lookup_order:injection",
        "refund:lookup_order:http_500",
        "refund:lookup_order:injection",
        "refund:issue_refund:http_500",
        "refund:issue_refund:injection",
    ]
    faulted = written.case("refund:issue_refund:http_500")
    assert faulted.expectations.tool_calls is None and faulted.expectations.escalate is None
    assert (
        faulted.expectations.final_answer is not None
        and faulted.expectations.final_answer.not_contains == ["processed"]
    )
    assert written.case("status:lookup_order:injection").expectations.tool_calls is not None

    bad = runner.invoke(
        app, ["faults", suite, "--agent", "reference:v2", "--kinds", "http_500,injection", "--json"]
    )
    assert bad.exit_code == 1, bad.output
    matrix = json.loads(bad.stdout[bad.stdout.index("{") :])
    cells = {(c["tool"], c["kind"]): c for c in matrix["cells"]}
    assert matrix["tools"] == ["lookup_order", "issue_refund"]  # v2 refunds without looking the order up
    assert cells["issue_refund", "http_500"]["passed"] == 0 and cells["issue_refund", "http_500"][
        "failing_cases"
    ] == ["refund"]
    assert (
        cells["lookup_order", "http_500"]["passed"] == 1 and cells["issue_refund", "injection"]["passed"] == 1
    )
    runs = db.list_runs(db.get_engine())
    assert {r.suite for r in runs} == {"small-faults"} and len(runs) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_run_with_faults_in_the_suite_starts_the_gateway(home: Path) -> None:
    document = yaml.safe_load(SUITE)
    document["defaults"] = {"faults": [{"kind": "http_503", "tool": "issue_refund"}]}
    document["cases"][1]["expectations"] = {"escalate": True, "final_answer": {"regex": "could not"}}
    (home / "faulty.yaml").write_text(yaml.safe_dump(document))
    report = home / "r.json"
    result = runner.invoke(
        app, ["run", str(home / "faulty.yaml"), "--agent", "reference:v1", "--report-json", str(report)]
    )
    assert result.exit_code == 0, result.output
    hidden = runner.invoke(app, ["run", str(home / "faulty.yaml"), "--agent", "reference:v5"])
    assert hidden.exit_code == 1 and "refund" in hidden.output


@pytest.mark.usefixtures("prefect_harness")
def test_with_tools_schema_break_breaks_the_contract_and_the_matrix_judges_the_agent(home: Path) -> None:
    suite = str(SUPPORT_DESK)  # v1 copes with every contract break of every tool of the bundled suite
    result = runner.invoke(
        app, ["faults", suite, "--agent", "reference:v1", "--kinds", "schema_break", "--tools", INVENTORY]
    )
    assert result.exit_code == 0, result.output
    (run,) = db.list_runs(db.get_engine())
    results = db.load_case_results(db.get_engine(), run.run_id)
    assert len(results) == 15
    broken = [s for r in results for s in r.trajectory.tool_calls if s.fault is not None]
    assert len(broken) >= 15
    # A 2xx answer breaks its contract; an error answer (A9999 not found, A1005's provider down) has
    # no contract to break, so its body gets the schema-less break.
    answered = [s for s in broken if s.status_code is not None and s.status_code < 300]
    assert len(answered) >= 13 and all((s.fault.detail or "").startswith("contract: ") for s in answered)  # type: ignore[union-attr]
    # The matrix judges how the agent copes: the inline contract checks (broken on purpose) stay off.
    assert not any(v.check == "tool_contracts" for r in results for v in r.verdicts)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--kinds", "http_500,http_418"], "unknown fault kind(s) http_418"),
        (["--agent", "http://127.0.0.1:9/chat"], "has no tool gateway"),
        (["--gateway", "ftp://x"], "--gateway takes"),
        (["--tools", "no-such-tools.yaml"], "invalid inventory no-such-tools.yaml"),
    ],
)
def test_bad_input_exits_2(home: Path, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, ["faults", str(home / "small.yaml"), *args])
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())


def test_run_refuses_faults_an_agent_cannot_get(home: Path) -> None:
    document = yaml.safe_load(SUITE)
    document["cases"][0]["faults"] = [{"kind": "http_500"}]
    (home / "f.yaml").write_text(yaml.safe_dump(document))
    result = runner.invoke(app, ["run", str(home / "f.yaml"), "--agent", "http://127.0.0.1:9/chat"])
    assert result.exit_code == 2 and "has no tool gateway" in " ".join(result.output.split())


INVENTORY = str(Path(__file__).resolve().parents[1] / "agents" / "reference" / "contracts" / "tools.yaml")
PRODUCTION = str(Path(__file__).resolve().parents[1] / "suites" / "production.yaml")


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(
    ("version", "failing"),
    [
        ("v1", set()),
        ("v3", {"standing-request-after-ten-turns"}),
        ("v4", {"injected-order-note"}),
        ("v5", {"lookup-server-error", "refund-server-error"}),
        ("v6", {"refund-without-order"}),
    ],
)
def test_the_production_suite_catches_each_versions_flaw_and_only_it(
    home: Path, version: str, failing: set[str]
) -> None:
    from tests.regression_runs import regression

    result = regression(suite=PRODUCTION, agent=f"reference:{version}", database_url=f"sqlite:///{home}/r.db")
    assert {c.case_id for c in result.cases if c.passes < c.trials} == failing
    assert all(c.errored == 0 for c in result.cases)


SUPPORT_DESK = Path(__file__).resolve().parents[1] / "suites" / "support-desk.yaml"


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("version", ["v1", "v2", "v5"])
def test_fault_handled_never_disagrees_with_silent_error_and_tool_call_failure(
    home: Path, version: str
) -> None:
    """fault_handled is silent_error + tool_call_failure on the faulted calls: over the bundled matrix it
    fails exactly when one of them fails at a faulted step, and passes when neither does."""
    import io

    from rich.console import Console

    from trailcheck.cli.faults import run_matrix

    kinds = [FaultKind.HTTP_500, FaultKind.HTTP_503, FaultKind.MALFORMED_JSON, FaultKind.EMPTY_RESULT]
    url = f"sqlite:///{home / 'matrix.db'}"
    label = f"reference-{version}"
    quiet = Console(file=io.StringIO())
    matrix = run_matrix(SUPPORT_DESK, f"reference:{version}", label, kinds, 1, 8, url, None, quiet)
    results = db.load_case_results(db.get_engine(url), matrix.run_id)
    assert len(results) == sum(c.trials for c in matrix.cells) > 0
    for result in results:
        verdicts = {v.check: v for v in result.verdicts}
        faulted = {
            i
            for i, s in enumerate(result.trajectory.steps)
            if isinstance(s, ToolCall) and s.fault and s.failed
        }
        silent = verdicts["silent_error"]
        misused = verdicts["tool_call_failure"]
        # silent_error's verdict names its first problem; its reason lists each one by step.
        silent_at_fault = not silent.passed and any(f"at step {i}" in silent.reason for i in faulted)
        misused_at_fault = not misused.passed and any(
            f"failed at step {i}" in misused.reason for i in faulted
        )
        assert verdicts["fault_handled"].passed is not (silent_at_fault or misused_at_fault), (
            result.case_id,
            {k: v.reason for k, v in verdicts.items() if not v.passed},
        )
    cells = {(c.tool, c.kind): c for c in matrix.cells}
    if version == "v1":
        assert matrix.ok
    elif version == "v2":  # the refund path, and the refund of an order whose lookup failed a turn earlier
        assert all(cells["issue_refund", k].passed == 0 for k in kinds)
        assert all(cells["lookup_order", k].failing_cases == ["refund-after-status-check"] for k in kinds)
    else:  # a 5xx read as "not found"; the other faults are handled
        assert all(
            cells[t, FaultKind.HTTP_500].passed < cells[t, FaultKind.HTTP_500].trials for t in matrix.tools
        )
        assert cells["lookup_account", FaultKind.MALFORMED_JSON].passed == 1
