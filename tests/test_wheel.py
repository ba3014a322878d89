"""The built wheel: one top-level import name, the bundled data inside, and it installs beside openai-agents.

openai-agents installs a top-level `agents` package and many projects have a `tasks.py` (invoke's
convention): trailcheck must not clash with either. The install test builds a fresh virtual
environment from the package registry (pip's cache makes it a few minutes), so it runs with
`make test-wheel` (`-m wheel`); the wheel's contents are checked in every `make test`.
"""

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = {
    "trailcheck/suites/support-desk.yaml",
    "trailcheck/examples/traces.jsonl",
    "trailcheck/agents/reference/contracts/tools.yaml",
    "trailcheck/agents/reference/contracts/lookup_order.json",
    "trailcheck/py.typed",
}


# Built from a copy: setuptools' build/ folder keeps modules since deleted and would ship them.
_NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".trailcheck", ".hypothesis"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("wheel")
    source = tmp_path_factory.mktemp("source") / "trailcheck"
    shutil.copytree(ROOT, source, symlinks=True, ignore=_NOT_SOURCE)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("trailcheck-*.whl")
    yield built


def test_the_wheel_has_one_top_level_name_and_ships_its_data(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (top_level,) = [n for n in names if n.endswith(".dist-info/top_level.txt")]
        assert archive.read(top_level).decode().split() == ["trailcheck"]
    roots = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert roots == {"trailcheck"}  # bench/, fuzz/, tests/ and the bare agents/checks/... are not installed
    assert names >= BUNDLED, f"missing from the wheel: {sorted(BUNDLED - names)}"
    suites = {n for n in names if n.startswith("trailcheck/suites/")}
    assert suites == {f"trailcheck/suites/{p.name}" for p in (ROOT / "suites").glob("*.yaml")}
    assert "trailcheck/flows/regression.py" in names and "trailcheck/cli/__init__.py" in names


def _user_project(home: Path) -> Path:
    """An empty project of a user's: its own tasks.py and an agents/ folder of configs."""
    project = home / "project"
    (project / "agents").mkdir(parents=True)
    (project / "agents" / "support.yaml").write_text("kind: http\nurl: http://127.0.0.1:9/agent\n")
    (project / "tasks.py").write_text(
        "from invoke import task  # the user's own, never imported by trailcheck\n"
    )
    return project


@pytest.mark.wheel
def test_the_wheel_installs_beside_openai_agents_and_the_demo_runs_in_a_users_project(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel), "openai-agents"],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    project = _user_project(tmp_path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PREFECT_"))},
        # The user's folder is on the import path, as with invoke: its tasks.py must not shadow trailcheck's.
        "PYTHONPATH": str(project),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The demo's ephemeral Prefect server starts in ~10 s alone, much later on a busy CI machine.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "TRAILCHECK_HOME": str(tmp_path / "trailcheck-home"),
    }
    agent = subprocess.run(
        [str(python), "-c", "from agents import Agent; import agents; print(agents.__file__)"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert agent.returncode == 0, agent.stderr[-3000:]
    assert "site-packages" in agent.stdout  # openai-agents' package, not the user's folder
    try:
        demo = subprocess.run(
            [str(env_dir / "bin" / "trailcheck"), "demo"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:  # the demo started a warm Prefect server (and a warm runner) in this home: leave none behind
        subprocess.run([str(env_dir / "bin" / "trailcheck"), "server", "stop"], cwd=project, env=env,
                       capture_output=True, timeout=120)  # fmt: skip
    assert demo.returncode == 0, (demo.stdout + demo.stderr)[-3000:]
    assert "regression(s) in v2" in demo.stdout
    found = int(demo.stdout.split("The demo found ", 1)[1].split(" ", 1)[0])
    assert found > 0
    assert (tmp_path / "trailcheck-home" / "results.db").exists()  # both runs were recorded
