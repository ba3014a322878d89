"""Budgets on cost, tokens and latency of one trial."""

from dataclasses import dataclass

from trailcheck.checks.base import CheckContext, failed, passed
from trailcheck.models import Budgets, FailureCategory, Verdict, VerdictStatus


@dataclass
class Budget:
    """Cost, tokens and latency stay within the case's budgets.

    A cost budget on an agent that reports no cost is skipped, not passed: the run says why.
    """

    budgets: Budgets
    name: str = "budget"
    failure_category: FailureCategory = FailureCategory.COST

    def evaluate(self, ctx: CheckContext) -> Verdict:
        t, b = ctx.trajectory, self.budgets
        over = []
        if b.max_tokens is not None and t.tokens.total > b.max_tokens:
            over.append(f"{t.tokens.total} tokens > {b.max_tokens}")
        if b.max_latency_s is not None and t.latency_s > b.max_latency_s:
            over.append(f"latency {t.latency_s:.2f}s > {b.max_latency_s:g}s")
        if b.max_cost_usd is not None and t.cost_usd is not None and t.cost_usd > b.max_cost_usd:
            over.append(f"cost ${t.cost_usd:.4f} > ${b.max_cost_usd:g}")
        if over:
            return failed(self.name, "; ".join(over), self.failure_category)
        if (
            b.max_cost_usd is not None
            and t.cost_usd is None
            and b.max_tokens is None
            and b.max_latency_s is None
        ):
            return Verdict(check=self.name, status=VerdictStatus.SKIPPED, reason="the agent reported no cost")
        return passed(self.name)
