"""`trailcheck reference serve`: the bundled reference support-desk agent, served until interrupted."""

from typing import Annotated

import typer

from trailcheck.cli._support import fail, out

app = typer.Typer(help="The bundled reference support-desk agent.", no_args_is_help=True)


@app.command("serve")
def reference_serve(
    version: Annotated[
        str, typer.Option(help="Agent version (v1 behaves well; v2-v6 each have a flaw).")
    ] = "v1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, metavar="PORT", help="Port of the agent (0: a free one).")
    ] = 0,
) -> None:
    """Serve the reference agent on 127.0.0.1 until interrupted; prints its URL.

    Exit codes: 0 stopped with Ctrl-C, 2 unknown version or port taken.
    """
    import time
    from contextlib import ExitStack

    from trailcheck.agents.reference import VERSIONS, serve_reference

    if version not in VERSIONS:
        raise fail(f"unknown version {version!r}; known: {', '.join(VERSIONS)}")
    with ExitStack() as stack:
        try:
            ref = stack.enter_context(serve_reference(version, port=port))
        except OSError as exc:
            raise fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; choose another --port") from None
        out.print(f"reference agent {version}: {ref.agent_url}  (tools: {ref.tools_url}); Ctrl-C stops it")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
