"""The `trailcheck` command line: one module per command, `_support` for what they share.

Nothing is imported here: the console script (`launcher.main`) must start without loading the
commands, which it may hand to the warm runner instead.
"""

from typing import Any

__all__ = ["app", "err", "main", "out"]


def __getattr__(name: str) -> Any:
    if name == "main":
        from trailcheck.cli.launcher import main

        return main
    if name == "app":
        from trailcheck.cli.commands import app

        return app
    if name in ("out", "err"):
        from trailcheck.cli import _support

        return getattr(_support, name)
    raise AttributeError(f"module 'trailcheck.cli' has no attribute {name!r}")
