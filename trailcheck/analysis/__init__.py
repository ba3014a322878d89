"""Computations over results: comparison with a baseline, reliability, health, sampling, promotion."""
