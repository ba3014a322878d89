"""The adapter contract: every way of talking to an agent turns a case into a Trajectory.

An adapter never raises for the agent's own failures: a refused connection, a timeout, an
HTTP error or an unreadable reply is recorded on the trajectory (status errored or timeout,
with the reason) so the run goes on and the case is never counted as passed.
"""

from typing import Protocol, runtime_checkable

from trailcheck.models import Case, Trajectory


@runtime_checkable
class AgentAdapter(Protocol):
    """Runs one trial of a case against an agent."""

    async def run(self, case: Case, trial: int) -> Trajectory:
        """Play every user turn of `case` and return what happened, errors included."""
        ...

    async def aclose(self) -> None:
        """Release connections and anything else the adapter holds."""
        ...
