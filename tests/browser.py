"""Headless Chromium from Debian's packages, driven from the command line: dump the DOM, take a screenshot.

The flags suit this offline machine: no sandbox (root), no GPU, nothing fetched in the background,
and a fresh profile each time.
"""

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium() -> str:
    """The Chromium binary; fails (does not skip) when it is missing, saying how to install it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed: `apt-get install -y chromium` (.ci/run does it)", pytrace=False
        )
    return path


def _run(url: str, profile: Path, extra: list[str], budget_ms: int, timeout_s: float) -> bytes:
    args = [
        chromium(),
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        *extra,
        url,
    ]
    done = subprocess.run(args, capture_output=True, timeout=timeout_s, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout


def dump_dom(
    url: str,
    profile: Path,
    budget_ms: int = 15_000,
    size: tuple[int, int] = (1400, 1200),
    timeout_s: float = 120,
) -> str:
    """The page's DOM after its scripts ran (for `budget_ms` of virtual time) in a `size` window.

    The size matters: lists that render only their visible rows (the Prefect UI's) are empty below it.
    """
    extra = [f"--window-size={size[0]},{size[1]}", "--dump-dom"]
    return _run(url, profile, extra, budget_ms, timeout_s).decode("utf-8", errors="replace")


def screenshot(
    url: str, out: Path, profile: Path, size: tuple[int, int] = (1280, 2000), budget_ms: int = 15_000
) -> tuple[int, int]:
    """Save a PNG of the page at `size` to `out`; returns the PNG's width and height."""
    _run(url, profile, [f"--window-size={size[0]},{size[1]}", f"--screenshot={out}"], budget_ms, 120)
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{out} is not a PNG"
    return struct.unpack(">II", header[16:24])
