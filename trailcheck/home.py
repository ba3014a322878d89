"""Where trailcheck keeps its local state: the SQLite results database, the spool, the warm Prefect server.

``$TRAILCHECK_HOME``, else ``./.trailcheck`` (per project, like ``.git``: two checkouts never share a
results database or a server by accident).
"""

import os
from collections.abc import Mapping
from pathlib import Path

HOME_ENV = "TRAILCHECK_HOME"
DEFAULT_HOME = ".trailcheck"


def home_for(environ: Mapping[str, str], cwd: str | Path) -> Path:
    """The absolute state directory of a process with this environment and working directory."""
    return (Path(cwd) / Path(environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()).resolve()


def trailcheck_home(create: bool = True) -> Path:
    """The absolute state directory of this process (created unless `create` is false)."""
    home = home_for(os.environ, Path.cwd())
    if create:
        home.mkdir(parents=True, exist_ok=True)
    return home
