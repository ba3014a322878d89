"""Suites derived from a suite: perturbations and long sessions."""
