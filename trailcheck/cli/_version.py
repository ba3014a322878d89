"""What `trailcheck --version` prints: the installed distribution's version (standard library only)."""

from importlib.metadata import version


def version_line() -> str:
    return f"trailcheck {version('trailcheck')}"
