"""CLI commands that live in their own modules; trailcheck/cli.py registers them."""
