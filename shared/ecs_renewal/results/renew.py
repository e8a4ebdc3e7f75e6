"""renew-batch's result: the plan it made, and what came of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..plan import BudgetExceeded, CapExceeded, Renewal, RenewalPlan
from ..records import CostEstimate, Failure, Skip
from . import JobResult, as_dicts

if TYPE_CHECKING:  # loaded when the run ends (LedgerGuard.summary), not at a cold start
    from .approval import ApprovalOutcome
    from .ledger import LedgerSummary


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class RenewResult(JobResult):
    plan: RenewalPlan
    renewed: tuple[Renewal, ...] = ()
    skipped: tuple[Skip, ...] = ()
    failed: tuple[Failure, ...] = ()
    period: int = 1
    period_unit: str = "Month"
    # APPROVAL=required: the plan waits for a person (approval/); ``approval`` is what proposing it came to.
    awaiting_approval: bool = False
    approval: ApprovalOutcome | None = None
    failed_deductions: int = 0  # candidates whose auto-renew deduction failed (deductions.py)
    ledger: LedgerSummary | None = None  # what the renewal ledger saw (jobs/ledger_guard.py)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "errors": self.error_rows(),
            "renewed": [r.as_row() for r in self.renewed],
            "skipped": [s.as_row() for s in self.skipped],
            "failed": [f.as_row() for f in self.failed],
            "period": {"period": self.period, "unit": self.period_unit},
            "failed_deductions": self.failed_deductions,
        }
        plan = self.plan
        body.update(as_dicts(cap_exceeded=plan.cap, estimated_cost=plan.cost, budget_exceeded=plan.budget,
                             funds=plan.funds, funds_short=plan.funds_short))
        if plan.cost is not None:  # exact: every planned instance priced with its own DescribeRenewalPrice
            body["estimated_cost"] = {**body["estimated_cost"], "exact": not plan.cost.unknown}
        if plan.stopped:  # what a person must decide about: the instances the limit held back
            body["selected"] = [item.candidate_row() for item in plan.items]
        if self.approval is not None:
            body["approval"] = self.approval.as_dict()
        if self.ledger is not None:
            body["ledger"] = self.ledger.as_dict()
        body["api_calls"] = self.calls()
        return body

    @property
    def cap(self) -> CapExceeded | None:
        return self.plan.cap

    @property
    def budget(self) -> BudgetExceeded | None:
        return self.plan.budget

    @property
    def cost(self) -> CostEstimate | None:
        return self.plan.cost

    @property
    def funds_short(self) -> Any:  # FundsForecast | None
        return self.plan.funds_short

    def counts(self) -> dict[str, int]:
        return {"renewed": len(self.renewed), "skipped": len(self.skipped), "failed": len(self.failed),
                "failed_deductions": self.failed_deductions}

    def order_ids(self) -> list[str]:
        return [r.order_id for r in self.renewed if r.order_id]
