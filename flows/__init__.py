"""Prefect flows: the regression replay, long sessions, live sampling and the data contracts check."""

from trailcheck.flows.contracts import contracts
from trailcheck.flows.live_sampling import live_sampling
from trailcheck.flows.long_session import long_session
from trailcheck.flows.regression import regression

__all__ = ["contracts", "live_sampling", "long_session", "regression"]
