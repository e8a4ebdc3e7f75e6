"""scan-expiring: every prepaid instance, in every region, whose expiry falls in the window.

Each row says what an operator needs to act: days left and the reminder tier, the expiry in the
alerts' time zone, the owner's auto-renew choice (one DescribeInstanceAutoRenewAttribute per 100
instances), the owner to @-mention, and the estimated renewal price (DescribeRenewalPrice, cached
by region + type + terms). The run's ``estimated_cost`` adds them up; unknown prices are counted apart.
"""

from __future__ import annotations

from typing import Any

from ..gateway.models import Instance
from ..pricing import PriceBook, estimate, price_query
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


Price = tuple[float, str]


def prices_of(ctx: JobContext, book: PriceBook, items: list[tuple[Instance, RenewalTerms]]) -> list[Price | None]:
    """Each item's renewal price, asked once per PriceBook key (region, type, period) — those calls at once.

    Only one instance per key goes to a thread: the others would only wait for that answer, and a thread
    per instance costs more than the whole rest of a row.
    """

    def key(item: tuple[Instance, RenewalTerms]) -> object:
        instance, terms = item
        if terms.expected_renew_day is not None:
            return instance.instance_id  # a unified-day price depends on the instance's own dates
        return instance.region, instance.instance_type, price_query(terms)

    first: dict[object, tuple[Instance, RenewalTerms]] = {}
    for item in items:
        first.setdefault(key(item), item)
    found = bounded_map(lambda item: book.price(*item), list(first.values()), ctx.throughput.renew_concurrency)
    by_key = dict(zip(first, found, strict=True))
    return [by_key[key(item)] for item in items]


def _scan_region(ctx: JobContext, region: str) -> list[dict[str, Any]]:
    settings = ctx.settings
    instances = expiring_instances(ctx, region)
    status: dict[str, str] = {}
    prices: dict[str, Price | None] = {}
    local = zone(settings.time_zone)
    now = settings.window.start

    def row(instance: Instance) -> dict[str, Any]:
        price = prices.get(instance.instance_id)
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

    def read_owner_choices() -> None:
        ids = [i.instance_id for i in instances]
        status.update((a.instance_id, a.renewal_status) for a in ctx.gateway.auto_renew_attributes(region, ids))

    def read_prices() -> None:
        priced = []
        for instance in instances:
            terms = renewal_terms(instance.tags, settings.tag_names, settings.period, settings.period_unit)
            if isinstance(terms, RenewalTerms):
                priced.append((instance, terms))
        found = prices_of(ctx, PriceBook(ctx.gateway.caller), priced)
        prices.update((instance.instance_id, price) for (instance, _), price in zip(priced, found, strict=True))

    if instances:  # both depend only on the list: the owners' choices and the prices are asked at once
        bounded_map(lambda read: read(), [read_owner_choices, read_prices], 2)
    rows = [row(instance) for instance in instances]
    ctx.log.info("region_scanned", region=region, expiring=len(rows))
    return rows
