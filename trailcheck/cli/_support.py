"""What every command shares: exit codes, the two consoles, and the one way to refuse bad input.

Exit codes: 0 everything passed, 1 a case failed or errored or a regression was found (or an
outside service such as the results database stayed unreachable), 2 bad input or usage (a suite,
agent or file that cannot be used; nothing ran).
"""

import logging
import os


def _quiet_prefect() -> None:
    # Before Prefect is imported: the CLI prints its own progress.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


_quiet_prefect()

import typer  # noqa: E402  (after _quiet_prefect: these may import Prefect)
from rich.console import Console  # noqa: E402

from trailcheck.render.terminal import escape  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

out = Console()
err = Console(stderr=True)


def adopt_new_terminal() -> None:
    """Read the environment and the terminal again, as a fresh process would.

    A child forked by the warm runner inherits consoles built for the runner's environment and
    output (no terminal, no COLUMNS); the command it runs writes to the launcher's terminal instead.
    """
    _quiet_prefect()
    out.__init__()  # type: ignore[misc]
    err.__init__(stderr=True)  # type: ignore[misc]


def fail(message: str) -> typer.Exit:
    """Print `error: message` (one line, markup escaped) on stderr; raise the result to exit 2."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_INPUT)


class _EventsShutdownRace(logging.Filter):
    """Drop the error Prefect logs when a flow's last heartbeat races its event worker's shutdown.

    The ephemeral server's run has finished and been recorded by then; only that one race is
    hidden, any other event error still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, RuntimeError) and "stopped service instance" in str(exc))


# Prefect's event client warns at exit while it flushes its queue; it is not the user's concern.
logging.getLogger("EventsWorker").setLevel(logging.ERROR)
logging.getLogger("prefect.events.utilities").addFilter(_EventsShutdownRace())


def unavailable(message: str) -> typer.Exit:
    """Print `error: message` for an outside service that failed (not the user's input); exit 1."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_FAILED)
