"""One typed result per job run; :mod:`ecs_renewal.contract` turns it into the contract's dict, once.

Every reader that decides something — the exit status, the run record, the alerts, the account merge —
reads these fields; only the boundary (the handler's return value, the CLI's JSON) sees the dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .records import (
    BudgetExceeded,
    CapExceeded,
    CostEstimate,
    Drift,
    Expiring,
    Failure,
    Fix,
    RegionError,
    Renewal,
    RenewalPlan,
    Skip,
)
from .settings import Settings, Window


@dataclass(frozen=True)
class Alerts:
    """What the run's DingTalk messages came to."""

    messages: int = 0
    sent: int = 0
    already_reported: int | None = None  # a scan: reminders already sent today, left out
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"messages": self.messages, "sent": self.sent}
        if self.already_reported is not None:
            fields["already_reported"] = self.already_reported
        if self.error is not None:
            fields["error"] = self.error
        return fields


@dataclass(frozen=True, kw_only=True)
class JobResult:
    """What every job's result says: which run, what could not be read, what it cost in calls."""

    job: str
    dry_run: bool
    regions: tuple[str, ...]
    window: Window | None = None
    errors: tuple[RegionError, ...] = ()
    api_calls: Mapping[str, int] = field(default_factory=dict)
    # Filled in by the execution mode, after the job:
    account_id: str | None = None
    shard: Mapping[str, Any] | None = None
    request_id: str | None = None
    alerts: Alerts | None = None

    @classmethod
    def facts(cls, settings: Settings, *, with_window: bool) -> dict[str, Any]:
        """The fields every result of this run starts with."""
        return {"job": settings.job, "dry_run": settings.dry_run, "regions": tuple(settings.regions),
                "window": settings.window if with_window else None}

    def with_meta(self, **fields: Any) -> JobResult:
        return replace(self, **fields)

    # What the run record, the exit status and the account merge ask of any result:
    @property
    def cap(self) -> CapExceeded | None:
        return None

    @property
    def budget(self) -> BudgetExceeded | None:
        return None

    @property
    def cost(self) -> CostEstimate | None:
        return None

    def counts(self) -> dict[str, int]:
        return {}

    @property
    def failed_count(self) -> int:
        return len(self.errors)

    def order_ids(self) -> list[str]:
        return []


@dataclass(frozen=True, kw_only=True)
class ScanResult(JobResult):
    expiring: tuple[Expiring, ...] = ()
    estimated_cost: CostEstimate = field(default_factory=CostEstimate)
    time_zone: str = "UTC"

    @property
    def cost(self) -> CostEstimate:
        return self.estimated_cost

    def counts(self) -> dict[str, int]:
        return {"count": len(self.expiring)}


@dataclass(frozen=True, kw_only=True)
class RenewResult(JobResult):
    plan: RenewalPlan
    renewed: tuple[Renewal, ...] = ()
    skipped: tuple[Skip, ...] = ()
    failed: tuple[Failure, ...] = ()
    period: int = 1
    period_unit: str = "Month"

    @property
    def cap(self) -> CapExceeded | None:
        return self.plan.cap

    @property
    def budget(self) -> BudgetExceeded | None:
        return self.plan.budget

    @property
    def cost(self) -> CostEstimate | None:
        return self.plan.cost

    def counts(self) -> dict[str, int]:
        return {"renewed": len(self.renewed), "skipped": len(self.skipped), "failed": len(self.failed)}

    @property
    def failed_count(self) -> int:
        return len(self.errors) + len(self.failed)

    def order_ids(self) -> list[str]:
        return [r.order_id for r in self.renewed if r.order_id]


@dataclass(frozen=True, kw_only=True)
class AuditResult(JobResult):
    drift: tuple[Drift, ...] = ()
    fixed: tuple[Fix, ...] = ()
    skipped: tuple[Skip, ...] = ()
    failed: tuple[Failure, ...] = ()
    expected_auto_renew: bool = True
    duration: int = 1
    fix: bool = False

    def counts(self) -> dict[str, int]:
        return {"drift": len(self.drift), "fixed": len(self.fixed), "skipped": len(self.skipped),
                "failed": len(self.failed)}

    @property
    def failed_count(self) -> int:
        return len(self.errors) + len(self.failed)


@dataclass(frozen=True, kw_only=True)
class AccountFailed(JobResult):
    """A target account whose role could not be assumed: nothing in it was read."""


@dataclass(frozen=True, kw_only=True)
class AccountsResult(JobResult):
    """Several accounts' results as one: the caps and budgets of each are the run's."""

    parts: tuple[JobResult, ...] = ()

    @property
    def cap(self) -> CapExceeded | None:
        caps = [part.cap for part in self.parts if part.cap]
        if not caps:
            return None
        return CapExceeded(sum(c.candidates for c in caps), max(c.max_instances for c in caps))

    @property
    def budget(self) -> BudgetExceeded | None:
        budgets = [part.budget for part in self.parts if part.budget]
        if not budgets:
            return None
        return BudgetExceeded(CostEstimate.combined([b.cost for b in budgets]), max(b.max_cost for b in budgets))

    @property
    def cost(self) -> CostEstimate | None:
        costs = [part.cost for part in self.parts if part.cost is not None]
        return CostEstimate.combined(costs) if costs else None

    def stopped_accounts(self) -> list[str]:
        return [part.account_id or "" for part in self.parts if part.cap or part.budget]

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in self.parts:
            for key, count in part.counts().items():
                total[key] = total.get(key, 0) + count
        return total

    @property
    def failed_count(self) -> int:
        return len(self.errors) + sum(part.failed_count for part in self.parts)

    def order_ids(self) -> list[str]:
        return [order for part in self.parts for order in part.order_ids()]


@dataclass(frozen=True, kw_only=True)
class CoordinatorResult(JobResult):
    """Too much for one invocation: the shards this one dispatched (rows as :func:`fanout.dispatch` makes them)."""

    shards: tuple[Mapping[str, Any], ...] = ()
