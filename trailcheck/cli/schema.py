"""`trailcheck schema`: the JSON Schema of suite files."""

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from trailcheck.models import Suite


def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of suite files (for editors and CI linters).

    Exit codes: 0 always.
    """
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **Suite.model_json_schema()}
    text = json.dumps(document, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
    else:
        output.write_text(text + "\n")
