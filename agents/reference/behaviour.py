"""What distinguishes the reference agent's versions: small switches, each a realistic flaw.

Later versions add flaws by adding a switch here and one branch where it matters, so every
version stays the same agent with a named defect.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Behaviour:
    """One version of the reference agent."""

    description: str
    looks_up_before_refund: bool = True
    admits_tool_failures: bool = True


VERSIONS: dict[str, Behaviour] = {
    "v1": Behaviour("behaves well: checks the order before refunding, admits failures and escalates"),
    "v2": Behaviour(
        "skips the order lookup before refunding, and claims success after a failed refund",
        looks_up_before_refund=False,
        admits_tool_failures=False,
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
