"""`trailcheck server start|stop|status`: the warm local Prefect server (when PREFECT_API_URL is unset)."""

import typer

from trailcheck.cli._support import EXIT_FAILED, EXIT_OK, out, unavailable

app = typer.Typer(
    help=(
        "The warm local Prefect server under $TRAILCHECK_HOME/prefect-server (default ./.trailcheck), "
        "and the warm runner that later commands run in. Runs start both on first use when "
        "PREFECT_API_URL is unset and reuse them; a set PREFECT_API_URL is always used instead."
    ),
    no_args_is_help=True,
)


@app.command("start")
def start() -> None:
    """Start the server (or find it running) and print its URLs.

    Exit codes: 0 running, 1 it did not start (the message names its log).
    """
    from trailcheck import prefect_server

    try:
        state = prefect_server.ensure()
    except prefect_server.PrefectServerError as exc:
        raise unavailable(str(exc)) from None
    out.print(
        f"Prefect server running: API {state.api_url}  UI {state.ui_url}  (pid {state.pid})",
        highlight=False,
        soft_wrap=True,  # an address cut across two lines cannot be clicked or copied
    )


@app.command("stop")
def stop() -> None:
    """Stop the server and the warm runner (runs started later start new ones).

    Exit codes: 0 stopped, or nothing was running.
    """
    from trailcheck import prefect_server
    from trailcheck.cli import runner_control
    from trailcheck.home import trailcheck_home

    runner = runner_control.stop(trailcheck_home())
    state = prefect_server.stop()
    out.print(f"Prefect server stopped (pid {state.pid})" if state else "no Prefect server was running")
    if runner is not None:
        out.print(f"warm runner stopped (pid {runner.pid}, served {runner.served})")


@app.command("status")
def status() -> None:
    """Say whether the server runs and where.

    Exit codes: 0 running and healthy, 1 not running.
    """
    from trailcheck import prefect_server

    state = prefect_server.status()
    if state is None:
        out.print("no Prefect server running (the next run starts one)")
        raise typer.Exit(EXIT_FAILED)
    out.print(
        f"Prefect server running: API {state.api_url}  UI {state.ui_url}  "
        f"(pid {state.pid}, Prefect {state.prefect_version})",
        highlight=False,
        soft_wrap=True,
    )
    from trailcheck.cli import runner_control
    from trailcheck.home import trailcheck_home

    runner = runner_control.status(trailcheck_home())
    out.print(
        f"warm runner serving commands (pid {runner.pid}, served {runner.served})"
        if runner
        else "no warm runner (the next run starts one; TRAILCHECK_WARM_RUNNER=off runs without)",
        highlight=False,
    )
    raise typer.Exit(EXIT_OK)
