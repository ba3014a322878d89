"""trailcheck: continuous testing for AI agents, built on Prefect.

The domain models live in :mod:`trailcheck.models`, the results database in
:mod:`trailcheck.db`; the Prefect-facing parts follow the repository layout
(``agents/``, ``checks/``, ``tasks/``, ``flows/``).
"""

__version__ = "0.1.0"
