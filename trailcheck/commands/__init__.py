"""CLI commands that live beside the features they drive; `trailcheck.cli` registers them."""
