"""Computations over results: comparison with a baseline, reliability, health, sampling, promotion,
and the rows a tool response becomes for its data contract."""
