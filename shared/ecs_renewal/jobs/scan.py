"""scan-expiring: every prepaid instance, in every region, whose expiry falls in the window.

Each row says what an operator needs to act: days left and the reminder tier, the expiry in the
alerts' time zone, the owner's auto-renew choice (one DescribeInstanceAutoRenewAttribute per 100
instances), the owner to @-mention, and the estimated renewal price (DescribeRenewalPrice, cached
by region + type + terms). The run's ``estimated_cost`` adds them up; unknown prices are counted apart.
"""

from __future__ import annotations

from typing import Any

from ..gateway.models import Instance
from ..pricing import PriceBook, estimate
from ..tag_rules import RenewalTerms, owner_of, renewal_terms
from ..tiers import tier_of
from ..timeutil import days_until, is_placeholder_expiry, zone
from .base import JobContext, base_result, bounded_map, finish, per_region


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
    found = per_region(ctx, lambda region: _scan_region(ctx, region), result["errors"])
    rows = [row for _, region_rows in found for row in region_rows]
    rows.sort(key=lambda row: (row["expired_time"], row["region"], row["instance_id"]))
    result["expiring"] = rows
    result["count"] = len(rows)
    priced = [(row["instance_id"], (row["price"], row["currency"]) if row["price"] is not None else None)
              for row in rows]
    result["estimated_cost"] = estimate(priced).as_dict()
    result["time_zone"] = ctx.settings.time_zone
    return finish(ctx, result)


def _scan_region(ctx: JobContext, region: str) -> list[dict[str, Any]]:
    settings = ctx.settings
    instances = expiring_instances(ctx, region)
    status = {a.instance_id: a.renewal_status
              for a in ctx.gateway.auto_renew_attributes(region, [i.instance_id for i in instances])}
    book = PriceBook(ctx.gateway.caller)
    local = zone(settings.time_zone)
    now = settings.window.start

    def row(instance: Instance) -> dict[str, Any]:
        terms = renewal_terms(instance.tags, settings.tag_names, settings.period, settings.period_unit)
        price = book.price(instance, terms) if isinstance(terms, RenewalTerms) else None
        owner = owner_of(instance.tags, settings.tag_names)
        days_left = days_until(instance.expired_time, now)
        return {
            "instance_id": instance.instance_id,
            "instance_name": instance.instance_name,
            "region": instance.region,
            "expired_time": instance.expired_time_text,
            "expires_local": instance.expired_time.astimezone(local).strftime("%Y-%m-%d %H:%M %Z"),
            "status": instance.status,
            "days_left": round(days_left, 1),
            "tier": tier_of(days_left, settings.alert_tiers),
            "auto_renew": status.get(instance.instance_id),
            "owner": (owner.mobile or owner.user_id) if owner else None,
            "price": price[0] if price else None,
            "currency": price[1] if price else None,
        }

    rows = bounded_map(row, instances, ctx.throughput.renew_concurrency)
    ctx.log.info("region_scanned", region=region, expiring=len(rows))
    return rows
