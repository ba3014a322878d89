"""Files shipped inside the package: the bundled suites, the example traces, the reference contracts.

They sit at the repository root (suites/, examples/) and under agents/reference/contracts/, and are
reached through the `trailcheck` package (trailcheck/suites and trailcheck/examples are links to the
root folders), so an installed wheel finds them with importlib.resources wherever it is run from.
"""

import atexit
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

# Resources of a zipped install are extracted once and removed when the process exits.
_extracted = ExitStack()
atexit.register(_extracted.close)


def bundled(*parts: str) -> Path:
    """The path of a file shipped with trailcheck, e.g. `bundled("suites", "support-desk.yaml")`."""
    resource = files("trailcheck").joinpath(*parts)
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(as_file(resource))


def bundled_suite(name: str = "support-desk") -> Path:
    """One of the bundled suites (suites/NAME.yaml)."""
    return bundled("suites", f"{name}.yaml")


def reference_inventory() -> Path:
    """The reference agent's integration inventory (agents/reference/contracts/tools.yaml)."""
    return bundled("agents", "reference", "contracts", "tools.yaml")
