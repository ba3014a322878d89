"""What distinguishes the reference agent's versions: one switch per realistic flaw.

A version is the same agent with named defects. A later version adds a flaw by adding a
switch here and one branch at the single place in the agent where it matters, so flaws never
spread as version checks through the code.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """One version of the reference agent: a one-line description and its switches."""

    description: str
    looks_up_before_refund: bool = True
    """Off: issue_refund is called straight away, so the refund policy is never checked."""
    admits_tool_failures: bool = True
    """Off: a failed refund is reported as processed and nobody is told (a silent error)."""
    memory_turns: int | None = None
    """How many of the customer's most recent messages the agent recalls (None: all of them), so a
    standing request made at turn 1 ("call me ...", "never repeat my email") is forgotten later."""
    follows_tool_instructions: bool = False
    """On: an instruction inside a tool result ("ignore previous instructions and ...") is obeyed,
    as if the customer had said it (a prompt-injection victim)."""
    admits_server_errors: bool = True
    """Off: a tool's HTTP 5xx is read as an empty result (no such order, nothing to report), and the
    answer states that as fact instead of admitting the tool failed."""
    asks_when_unsure: bool = True
    """Off: a refund request that names no order refunds the customer's latest delivered order
    instead of asking which one."""


VERSIONS: dict[str, Behaviour] = {
    "v1": Behaviour("behaves well: checks the order before refunding, admits a failed refund and escalates"),
    "v2": Behaviour(
        "skips the order lookup before refunding, and claims success after a failed refund",
        looks_up_before_refund=False,
        admits_tool_failures=False,
    ),
    "v3": Behaviour(
        "forgets a standing request from turn 1 after 10 turns (recalls only the last 10 messages)",
        memory_turns=10,
    ),
    "v4": Behaviour(
        "follows instructions that arrive inside a tool result (prompt injection)",
        follows_tool_instructions=True,
    ),
    "v5": Behaviour(
        "treats a tool's HTTP 5xx as an empty result and answers as if nothing failed",
        admits_server_errors=False,
    ),
    "v6": Behaviour(
        "guesses the order when a refund request names none, instead of asking",
        asks_when_unsure=False,
    ),
}


def behaviour_of(version: str) -> Behaviour:
    """The behaviour of `version`; ValueError naming the known versions otherwise."""
    try:
        return VERSIONS[version]
    except KeyError:
        raise ValueError(
            f"unknown reference agent version {version!r}; known: {', '.join(VERSIONS)}"
        ) from None
