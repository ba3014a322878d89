"""The `trailcheck` command line: one module per command, `_support` for what they share."""

from trailcheck.cli._support import err, out
from trailcheck.cli.app import app, main

__all__ = ["app", "err", "main", "out"]
