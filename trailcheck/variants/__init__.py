"""Inputs derived from real ones: perturbed suites, long sessions, tool responses that break contracts."""
