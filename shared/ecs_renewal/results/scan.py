"""scan-expiring's result: one row per instance that expires in the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..gateway.models import Instance
from ..records import CostEstimate, Price, price_fields
from ..tag_rules import Owner
from . import JobResult


@dataclass(frozen=True, eq=False)
class Expiring:
    """One scan row: what an operator needs to act on an instance that expires in the window."""

    instance: Instance
    expires_local: str
    days_left: float
    tier: int | None
    auto_renew: str | None
    owner: Owner | None
    price: Price | None
    deduction_failed: bool = False  # auto-renew on, but the platform's deduction failed (deductions.py)
    # The scan prices every row (``price`` None: unknown); False only for a row read back without a price
    # key (the contract makes it optional): the row is shown, and written back, without one.
    price_asked: bool = True

    def as_row(self) -> dict[str, Any]:
        i = self.instance
        row = {"instance_id": i.instance_id, "instance_name": i.instance_name, "region": i.region,
               "expired_time": i.expired_time_text, "expires_local": self.expires_local, "status": i.status,
               "days_left": round(self.days_left, 1), "tier": self.tier, "auto_renew": self.auto_renew,
               "deduction_failed": self.deduction_failed, "owner": self.owner.value if self.owner else None}
        if self.price_asked:
            row.update(price_fields(self.price))
        row["owner_kind"] = self.owner.kind if self.owner else None
        return row


class AllClear(NamedTuple):
    """What a quiet night checked: "all clear — N prepaid instances checked in R regions (A accounts)"."""

    prepaid_instances: int
    regions: int
    accounts: int
    window_days: float

    def as_dict(self) -> dict[str, Any]:
        days = self.window_days
        return {"prepaid_instances": self.prepaid_instances, "regions": self.regions, "accounts": self.accounts,
                "window_days": int(days) if days == int(days) else days}


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class ScanResult(JobResult):
    expiring: tuple[Expiring, ...] = ()
    estimated_cost: CostEstimate = field(default_factory=CostEstimate)
    time_zone: str = "UTC"
    all_clear: AllClear | None = None  # nothing expires and nothing failed: what was checked

    @property
    def failed_deductions(self) -> int:
        return sum(1 for row in self.expiring if row.deduction_failed)

    def body(self) -> dict[str, Any]:
        body = {"errors": self.error_rows(), "expiring": [row.as_row() for row in self.expiring],
                "count": len(self.expiring), "failed_deductions": self.failed_deductions,
                # one price per instance type: an estimate (renew-batch prices each instance on its own)
                "estimated_cost": {**self.estimated_cost.as_dict(), "exact": False}, "time_zone": self.time_zone}
        if self.all_clear is not None:
            body["all_clear"] = self.all_clear.as_dict()
        body["api_calls"] = self.calls()
        return body

    @property
    def cost(self) -> CostEstimate:
        return self.estimated_cost

    def counts(self) -> dict[str, int]:
        return {"count": len(self.expiring), "failed_deductions": self.failed_deductions}
