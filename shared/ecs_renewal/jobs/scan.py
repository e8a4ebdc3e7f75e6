"""scan-expiring: every prepaid instance, in every region, whose expiry falls in the window."""

from __future__ import annotations

from typing import Any

from ..gateway.models import Instance
from ..timeutil import days_until, is_placeholder_expiry
from .base import JobContext, base_result, finish, per_region


def expiring_instances(ctx: JobContext, region: str) -> list[Instance]:
    """Server-side filter for the window, then our own check: the filter's edge semantics are undocumented."""
    window = ctx.settings.window
    return [
        instance
        for instance in ctx.gateway.instances(region, expired_start=window.start, expired_end=window.end)
        if instance.is_prepaid
        and not is_placeholder_expiry(instance.expired_time)
        and window.contains(instance.expired_time)
    ]


def run(ctx: JobContext) -> dict[str, Any]:
    result = base_result(ctx, with_window=True)
    found = per_region(ctx, lambda region: expiring_instances(ctx, region), result["errors"])
    now = ctx.settings.window.start
    rows = [
        {
            "instance_id": i.instance_id,
            "instance_name": i.instance_name,
            "region": i.region,
            "expired_time": i.expired_time_text,
            "status": i.status,
            "days_left": round(days_until(i.expired_time, now), 1),
        }
        for _, instances in found
        for i in instances
    ]
    rows.sort(key=lambda row: (row["expired_time"], row["region"], row["instance_id"]))
    result["expiring"] = rows
    result["count"] = len(rows)
    for region, instances in found:
        ctx.log.info("region_scanned", region=region, expiring=len(instances))
    return finish(ctx, result)
