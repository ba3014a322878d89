"""Custom checks used by the tests' suites (a suite names them by dotted path)."""

from dataclasses import dataclass

from trailcheck.checks.base import CheckContext


@dataclass
class MentionsCustomerName:
    """Passes when the final answer greets the customer by name."""

    customer: str
    name: str = "mentions_customer_name"

    def evaluate(self, ctx: CheckContext) -> bool:
        return self.customer.lower() in (ctx.trajectory.final_answer or "").lower()


@dataclass
class Explodes:
    """A check with a bug: it raises."""

    def evaluate(self, ctx: CheckContext) -> bool:
        raise RuntimeError("boom")


class NotACheck:
    """Has no evaluate method."""
