"""scan-expiring: every prepaid instance, in every region, whose expiry falls in the window.

Each row says what an operator needs to act: days left and the reminder tier, the expiry in the
alerts' time zone, the owner's auto-renew choice (one DescribeInstanceAutoRenewAttribute per 100
instances), the owner to @-mention, and the estimated renewal price (DescribeRenewalPrice, cached
by region + type + terms). The run's ``estimated_cost`` adds them up; unknown prices are counted apart.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from ..deductions import deduction_failed
from ..gateway.models import Instance
from ..records import CostEstimate, Price
from ..results import JobResult
from ..results.scan import AllClear, Expiring, ScanResult
from ..tag_rules import RenewalTerms, owner_of, renewal_terms
from ..tiers import tier_of
from ..timeutil import days_until, utc_now, zone
from .base import JobContext, api_calls, bounded_map, per_region
from .prices import prices_of
from .source import expiring_instances


def run(ctx: JobContext) -> ScanResult:
    found, errors = per_region(ctx, lambda region: _scan_region(ctx, region))
    rows = sorted((row for _, (region_rows, _) in found for row in region_rows),
                  key=lambda row: (row.instance.expired_time_text, row.instance.region, row.instance.instance_id))
    quiet = not rows and not errors
    return ScanResult(
        **JobResult.facts(ctx.settings, with_window=True), errors=tuple(errors), expiring=tuple(rows),
        estimated_cost=CostEstimate.of([(row.instance.instance_id, row.price) for row in rows]),
        time_zone=ctx.settings.time_zone, api_calls=api_calls(ctx),
        all_clear=all_clear(ctx, sum(count or 0 for _, (_, count) in found)) if quiet else None,
    )


def all_clear(ctx: JobContext, prepaid: int) -> AllClear:
    window = ctx.settings.window
    days = round((window.end - window.start) / timedelta(days=1), 1)
    return AllClear(prepaid, len(ctx.settings.regions), 1, days)


def _scan_region(ctx: JobContext, region: str) -> tuple[list[Expiring], int | None]:
    """The region's rows, and — when nothing in it expires — how many prepaid instances it has (the
    all-clear says what was checked; a count of 0 proves the permission to read first)."""
    settings = ctx.settings
    instances = expiring_instances(ctx, region, prove_empty=False)
    if not instances:
        return [], ctx.gateway.prepaid_count(region)
    local = zone(settings.time_zone)
    now = settings.window.start
    moment = utc_now()

    def read_owner_choices() -> dict[str, str]:
        ids = [i.instance_id for i in instances]
        return {a.instance_id: a.renewal_status for a in ctx.gateway.auto_renew_attributes(region, ids)}

    def read_prices() -> dict[str, Price | None]:
        terms = [(i, renewal_terms(i.tags, settings.tag_names, settings.period, settings.period_unit,
                                   site=settings.site, unified_day=settings.unified_expiry_day))
                 for i in instances]
        return prices_of(ctx, [(i, t) for i, t in terms if isinstance(t, RenewalTerms)])

    def row(instance: Instance, status: dict[str, str], prices: dict[str, Price | None]) -> Expiring:
        days_left = days_until(instance.expired_time, now)
        return Expiring(
            instance=instance, expires_local=instance.expired_time.astimezone(local).strftime("%Y-%m-%d %H:%M %Z"),
            days_left=days_left, tier=tier_of(days_left, settings.alert_tiers),
            auto_renew=status.get(instance.instance_id), owner=owner_of(instance.tags, settings.tag_names),
            price=prices.get(instance.instance_id),
            deduction_failed=deduction_failed(instance.expired_time, status.get(instance.instance_id), moment),
        )

    # Both depend only on the list: the owners' choices and the prices are asked at once.
    reads: list[Callable[[], dict]] = [read_owner_choices, read_prices]
    status, prices = bounded_map(lambda read: read(), reads, 2)
    rows = [row(instance, status, prices) for instance in instances]
    ctx.log.info("region_scanned", region=region, expiring=len(rows))
    return rows, None
