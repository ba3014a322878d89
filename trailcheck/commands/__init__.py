"""CLI commands that live in their own modules; `trailcheck.cli` registers them."""
