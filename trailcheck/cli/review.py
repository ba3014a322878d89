"""`trailcheck review`: see and answer the reviews live-sampling runs are paused for, from a shell.

A run paused for review waits on one form (tasks/review.py); `decide` fills it in and resumes the
run, exactly as the Prefect UI's form does. Needs PREFECT_API_URL (the server the runs live on).
"""

import re
from typing import Annotated, Any
from uuid import UUID

import typer

from trailcheck.cli._support import EXIT_FAILED, err, fail, out

app = typer.Typer(help="Reviews that live-sampling runs are waiting for.", no_args_is_help=True)
_DECISION = re.compile(r"^decision_(\d+)$")


def _paused(flow_run_id: str | None = None) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    flow_filter = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    if flow_run_id:
        try:
            flow_filter.id = FlowRunFilterId(any_=[UUID(flow_run_id)])
        except ValueError:
            raise fail(
                f"{flow_run_id!r} is not a flow run id (a UUID, see `trailcheck review list`)"
            ) from None
    import httpx
    from prefect.exceptions import PrefectException

    try:
        with get_client(sync_client=True) as client:
            return list(client.read_flow_runs(flow_run_filter=flow_filter))
    except (httpx.HTTPError, PrefectException, RuntimeError) as exc:
        err.print(
            f"error: cannot read paused runs from the Prefect API ({type(exc).__name__}: {exc}); "
            "fix: set PREFECT_API_URL to the server the flows run on, or `trailcheck server start`",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILED) from None


def _form(run: Any) -> tuple[str, list[int]]:
    """The paused run's review description and the trace numbers its form asks about."""
    from prefect.input.actions import read_flow_run_input
    from prefect.input.run_input import keyset_from_paused_state

    keyset = keyset_from_paused_state(run.state)
    description = read_flow_run_input(keyset["description"], flow_run_id=run.id) or ""
    schema = read_flow_run_input(keyset["schema"], flow_run_id=run.id)
    properties = schema.get("properties", {}) if isinstance(schema, dict) else {}
    numbers = sorted(int(m[1]) for name in properties if (m := _DECISION.match(name)))
    return str(description), numbers


def _one(flow_run_id: str) -> Any:
    runs = _paused(flow_run_id)
    if not runs:
        raise fail(f"flow run {flow_run_id} is not paused for a review (see `trailcheck review list`)")
    return runs[0]


@app.command("list")
def list_reviews() -> None:
    """The flow runs paused for a review, with how many traces each waits on.

    Exit codes: 0 listed (also when none waits), 1 the Prefect API cannot be read.
    """
    runs = _paused()
    if not runs:
        out.print("no run is waiting for a review", highlight=False)
        return
    for run in runs:
        _, numbers = _form(run)
        out.print(f"{run.id}  {run.name}  {len(numbers)} trace(s)", highlight=False, soft_wrap=True)


@app.command("show")
def show(flow_run_id: Annotated[str, typer.Argument(help="The paused flow run.")]) -> None:
    """The traces under review: why, their failed checks and their conversations.

    Exit codes: 0 shown, 1 the Prefect API cannot be read, 2 no such paused run.
    """
    description, numbers = _form(_one(flow_run_id))
    out.print(description, markup=False, highlight=False, soft_wrap=True)
    out.print(
        f"\ndecide with: trailcheck review decide {flow_run_id} --approve N,.. --reject N,..", highlight=False
    )
    if not numbers:
        err.print("this pause has no batch review form (paused by something else?)", highlight=False)


def _numbers(value: str | None, option: str) -> set[int]:
    if not value:
        return set()
    try:
        return {int(part) for part in value.split(",") if part.strip()}
    except ValueError:
        raise fail(f"{option} {value!r}: give trace numbers separated by commas, e.g. 1,3") from None


@app.command("decide")
def decide(
    flow_run_id: Annotated[str, typer.Argument(help="The paused flow run.")],
    approve: Annotated[str | None, typer.Option(help="Trace numbers to approve, e.g. 1,2.")] = None,
    reject: Annotated[str | None, typer.Option(help="Trace numbers to reject, e.g. 3.")] = None,
    expected: Annotated[
        list[str] | None,
        typer.Option(metavar="N=TEXT", help='N="what the agent should have done" (repeatable).'),
    ] = None,
    note: Annotated[str, typer.Option(help="A note kept with every decision.")] = "",
) -> None:
    """Decide every trace of the review (no default: each must be approved or rejected) and resume.

    Exit codes: 0 resumed, 1 the Prefect API cannot be read or refused the resume, 2 bad input
    (no such paused run, a trace without a decision, an unknown trace number).
    """
    from prefect.exceptions import PrefectException
    from prefect.flow_runs import resume_flow_run

    run = _one(flow_run_id)
    _, numbers = _form(run)
    approved, rejected = _numbers(approve, "--approve"), _numbers(reject, "--reject")
    if approved & rejected:
        raise fail(f"trace(s) {sorted(approved & rejected)} both approved and rejected")
    unknown = sorted((approved | rejected) - set(numbers))
    if unknown:
        raise fail(f"no trace {unknown} in this review; it has traces 1-{len(numbers)}")
    undecided = sorted(set(numbers) - approved - rejected)
    if undecided:
        raise fail(f"trace(s) {undecided} have no decision: pass each to --approve or --reject")
    answer: dict[str, str] = {f"decision_{n}": "approve" if n in approved else "reject" for n in numbers}
    for item in expected or []:
        number, sep, text = item.partition("=")
        if not sep or not number.strip().isdigit() or int(number) not in numbers:
            raise fail(f'--expected {item!r}: write N="what the agent should have done" for a trace N')
        answer[f"expected_{int(number)}"] = text
    answer["note"] = note
    try:
        resume_flow_run(run.id, run_input=answer)
    except (PrefectException, RuntimeError) as exc:
        err.print(f"could not resume {flow_run_id}: {exc}", markup=False, highlight=False)
        raise typer.Exit(EXIT_FAILED) from None
    out.print(
        f"resumed {run.name}: {len(approved)} approved, {len(rejected)} rejected",
        highlight=False,
        soft_wrap=True,
    )
