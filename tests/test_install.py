"""trailcheck installed into fresh venvs the way a team installs it next to its agent (`make test-install`).

- at its floors: every direct dependency at exactly the lower bound pyproject.toml gives, so the
  ranges' lower bounds are tested, not guessed;
- beside the newest fastapi and pydantic the registry serves (within the ranges), as an agent's
  FastAPI app would pull them in;
- and the reason for the fastapi upper bound still holds: the newest fastapi the registry serves
  breaks prefect 3.8.8's server at import. When this test fails, the bound can go.

Each builds a venv (with uv) and installs ~150 packages, then runs the demo, so they run only with
`-m install`.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install


def floors() -> list[str]:
    """`name==lower bound` for each direct dependency (its extras kept), from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = []
    for line in project["dependencies"]:
        requirement = Requirement(line)
        lower = [s.version for s in requirement.specifier if s.operator == ">="]
        assert lower, f"{line}: every dependency needs a tested lower bound"
        pins.append(f"{requirement.name}=={lower[0]}")
    return pins


UV = Path(sys.executable).with_name("uv")


def _venv(path: Path) -> Path:
    _uv("venv", "--python", sys.executable, str(path))
    return path / "bin" / "python"


def _uv(*args: str) -> str:
    done = subprocess.run([str(UV), *args], capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _install(python: Path, *args: str) -> str:
    # Bytecode compiled at install: a first start compiling ~150 packages can outlast Prefect's
    # ephemeral-server start-up timeout on a busy machine.
    return _uv("pip", "install", "--python", str(python), "--compile-bytecode", *args)


def _pip(python: Path, *args: str) -> str:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _version(python: Path, name: str) -> str:
    shown = _uv("pip", "show", "--python", str(python), name)
    return re.search(r"^Version: (\S+)", shown, re.M).group(1)  # type: ignore[union-attr]


def _demo(python: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """`trailcheck demo` from the venv, against a Prefect server run from the same venv.

    A server of its own rather than the ephemeral one: the ephemeral server's start-up timed out
    here on a busy machine, and the demo is about the install, not about start-up speed.
    """
    env = {
        **os.environ,
        "TRAILCHECK_HOME": str(home),
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
    }
    env.pop("TRAILCHECK_DATABASE_URL", None)
    env.pop("PREFECT_API_URL", None)
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = subprocess.Popen(
        [str(python.parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not _healthy(f"{api}/health"):
            assert server.poll() is None, "the Prefect server of the venv exited"
            assert time.monotonic() < deadline, "the Prefect server of the venv did not start"
            time.sleep(1)
        return subprocess.run(
            [str(python.parent / "trailcheck"), "demo"],
            cwd=ROOT,
            env={**env, "PREFECT_API_URL": api},
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).is_success
    except httpx.HTTPError:
        return False


def _demo_passes(python: Path, home: Path) -> None:
    demo = _demo(python, home)
    output = demo.stdout + demo.stderr
    # The demo replays v1 (it passes), then v2 against it (the regressions it is built to show).
    assert demo.returncode == 0, output[-4000:]
    assert "PASS suite support-desk v1 on reference-v1" in output, output[-4000:]
    assert re.search(r"The demo found [1-9]\d* regression\(s\) in v2", output), output[-4000:]


def test_demo_at_the_dependency_floors(tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    constraints = tmp_path / "floors.txt"
    constraints.write_text("\n".join(floors()) + "\n")
    _install(python, "-c", str(constraints), "-e", str(ROOT))
    for pin in floors():
        name, version = pin.split("==")
        assert Version(_version(python, re.sub(r"\[.*\]", "", name))) == Version(version)
    _demo_passes(python, tmp_path / "home")


def test_demo_beside_the_newest_fastapi_and_pydantic(tmp_path: Path) -> None:
    python = _venv(tmp_path / "venv")
    # A fresh resolve takes the newest release of everything within trailcheck's ranges.
    _install(python, "-e", str(ROOT), "fastapi", "pydantic")
    newest_pydantic = _newest(Path(sys.executable), "pydantic")
    assert _version(python, "pydantic") == newest_pydantic
    fastapi = _version(python, "fastapi")
    print(f"newest install: fastapi {fastapi}, pydantic {newest_pydantic}")
    _demo_passes(python, tmp_path / "home")


def test_the_fastapi_bound_is_still_needed(tmp_path: Path) -> None:
    """The newest fastapi served, over trailcheck's environment: prefect's server no longer imports."""
    python = Path(sys.executable)
    newest = _newest(python, "fastapi")
    overlay = tmp_path / "overlay"
    _pip(python, "install", "--no-deps", "--target", str(overlay), f"fastapi=={newest}")
    probe = subprocess.run(
        [str(python), "-c", "from prefect.server.api.server import create_app; create_app(ephemeral=True)"],
        env={**os.environ, "PYTHONPATH": str(overlay)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode != 0 and "min_items" in probe.stderr, (
        f"prefect's server imports with fastapi {newest}: lift the fastapi<0.155 bound in pyproject.toml"
    )


def _newest(python: Path, name: str) -> str:
    listed = _pip(python, "index", "versions", name)
    return re.search(rf"^{name} \((\S+)\)", listed, re.M | re.I).group(1)  # type: ignore[union-attr]
