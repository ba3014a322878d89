"""Where trailcheck keeps its local state: the SQLite results database, the spool, the warm Prefect server.

``$TRAILCHECK_HOME``, else ``./.trailcheck`` (per project, like ``.git``: two checkouts never share a
results database or a server by accident).
"""

import os
from pathlib import Path

HOME_ENV = "TRAILCHECK_HOME"
DEFAULT_HOME = ".trailcheck"


def trailcheck_home(create: bool = True) -> Path:
    """The absolute state directory (created unless `create` is false)."""
    home = Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
    if create:
        home.mkdir(parents=True, exist_ok=True)
    return home
