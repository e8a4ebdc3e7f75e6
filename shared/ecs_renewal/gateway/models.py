"""Typed views of what ECS returns: compact records instead of raw response dicts.

The instance is a frozen dataclass; the small rows are NamedTuples (immutable, and far cheaper to
define at a cold start).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..timeutil import format_minute, parse_expired_time


@dataclass(frozen=True)  # compared by value: a plan (RenewalPlan) is a value, and it holds instances
class Instance:
    """One instance as DescribeInstances describes it (the fields the jobs read)."""

    instance_id: str
    instance_name: str
    region: str
    charge_type: str
    expired_time: datetime
    status: str
    instance_type: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    locks: tuple[str, ...] = ()

    @property
    def is_prepaid(self) -> bool:
        return self.charge_type == "PrePaid"

    @property
    def expired_time_text(self) -> str:
        return format_minute(self.expired_time)

    @classmethod
    def from_api(cls, raw: dict[str, Any], region: str) -> Instance:
        tags = {t.get("TagKey", ""): t.get("TagValue", "") for t in (raw.get("Tags") or {}).get("Tag", [])}
        locks = tuple(
            lock.get("LockReason", "") for lock in (raw.get("OperationLocks") or {}).get("LockReason", [])
        )
        return cls(
            instance_id=raw["InstanceId"],
            instance_name=raw.get("InstanceName", ""),
            region=raw.get("RegionId") or region,
            charge_type=raw.get("InstanceChargeType", ""),
            expired_time=parse_expired_time(raw["ExpiredTime"]),
            status=raw.get("Status", ""),
            instance_type=raw.get("InstanceType", ""),
            tags=tags,
            locks=locks,
        )


class AutoRenewAttribute(NamedTuple):
    instance_id: str
    enabled: bool
    duration: int
    period_unit: str
    renewal_status: str

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> AutoRenewAttribute:
        return cls(
            instance_id=raw["InstanceId"],
            enabled=bool(raw.get("AutoRenewEnabled")),
            duration=int(raw.get("Duration") or 0),
            period_unit=raw.get("PeriodUnit", "Month") or "Month",
            renewal_status=raw.get("RenewalStatus", ""),
        )


class RenewalPrice(NamedTuple):
    instance_id: str
    trade_price: float
    currency: str
