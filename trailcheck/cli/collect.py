"""`trailcheck collect`: an OTLP/HTTP receiver that keeps traces for live sampling.

Point an OTLP exporter at it (``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318``, JSON or
protobuf) and sample what it stored with ``trailcheck sample otlp-store:DIR``. Every request is
redacted and fsync'd before it is answered (trailcheck/collect/receiver.py).
"""

from pathlib import Path
from typing import Annotated

import typer

from trailcheck.cli._support import err, fail


def collect(
    store: Annotated[Path, typer.Option(help="The trace store directory (read with otlp-store:DIR).")] = Path(
        ".trailcheck/otlp-store"
    ),
    host: Annotated[
        str, typer.Option(help="Interface to listen on (keep 127.0.0.1 unless a proxy fronts it).")
    ] = ("127.0.0.1"),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port (4318 is OTLP/HTTP's).")] = 4318,
    max_pending_mb: Annotated[
        float, typer.Option(min=1, help="Data waiting to be written before requests get 429.")
    ] = 64.0,
    redact_pattern: Annotated[
        list[str] | None, typer.Option(help="Also redact this regex (repeatable).")
    ] = None,
    no_redact: Annotated[bool, typer.Option(help="Turn pattern redaction off.")] = False,
) -> None:
    """Receive OTLP/HTTP traces (JSON and protobuf) on HOST:PORT and append them to STORE durably."""
    import uvicorn

    from trailcheck.collect import ReceiverSettings, build_receiver
    from trailcheck.redaction import RedactionConfig, Redactor

    try:
        config = RedactionConfig.from_env(redact_pattern or (), enabled=False if no_redact else None)
        store.mkdir(parents=True, exist_ok=True)
    except (ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    settings = ReceiverSettings(
        store=store, max_pending_bytes=int(max_pending_mb * 1024 * 1024), redactor=Redactor(config)
    )
    err.print(f"collecting OTLP/HTTP on http://{host}:{port}/v1/traces into {store}", highlight=False)
    uvicorn.run(build_receiver(settings), host=host, port=port, log_level="warning", access_log=False)
