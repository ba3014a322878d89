"""Peer runners for `make bench-peers`: each runs in its peer's own venv (bench/.peers/), not trailcheck's.

Each takes N, the fake agent's URL and the concurrency, sends every case to the agent, checks the
same two assertions (a lookup_order call with an A<5 digits> order id, "shipped" in the answer) and
prints ``passed P/N`` as its last line.
"""
