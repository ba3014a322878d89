"""Prefect flows: the regression replay, long sessions, live sampling and the data contracts check.

Each flow is imported on first use (PEP 562), so `trailcheck run` does not pay for the others.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trailcheck.flows.contracts import contracts
    from trailcheck.flows.live_sampling import live_sampling
    from trailcheck.flows.long_session import long_session
    from trailcheck.flows.regression import regression

_HOMES = {
    "contracts": "contracts",
    "live_sampling": "live_sampling",
    "long_session": "long_session",
    "regression": "regression",
}
__all__ = ["contracts", "live_sampling", "long_session", "regression"]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
