"""`python -m trailcheck.cli` runs the command line (tests start it this way in a subprocess)."""

from trailcheck.cli.launcher import main

main()
