"""scan-expiring's result: one row per instance that expires in the window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def as_row(self) -> dict[str, Any]:
        i = self.instance
        return {"instance_id": i.instance_id, "instance_name": i.instance_name, "region": i.region,
                "expired_time": i.expired_time_text, "expires_local": self.expires_local, "status": i.status,
                "days_left": round(self.days_left, 1), "tier": self.tier, "auto_renew": self.auto_renew,
                "owner": self.owner.value if self.owner else None, **price_fields(self.price),
                "owner_kind": self.owner.kind if self.owner else None}


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class ScanResult(JobResult):
    expiring: tuple[Expiring, ...] = ()
    estimated_cost: CostEstimate = field(default_factory=CostEstimate)
    time_zone: str = "UTC"

    def body(self) -> dict[str, Any]:
        return {"errors": self.error_rows(), "expiring": [row.as_row() for row in self.expiring],
                "count": len(self.expiring), "estimated_cost": self.estimated_cost.as_dict(),
                "time_zone": self.time_zone, "api_calls": self.calls()}

    @property
    def cost(self) -> CostEstimate:
        return self.estimated_cost

    def counts(self) -> dict[str, int]:
        return {"count": len(self.expiring)}
