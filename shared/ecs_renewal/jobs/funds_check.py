"""renew-batch's funds forecast: read the balance, add up the horizon's charges, refuse a plan it cannot pay.

The charges (``funds.py``): this run's renewals at the plan's prices, plus the platform's auto-renew
deductions due in ``FUNDS_HORIZON_DAYS`` — the run's own candidates it leaves to auto-renew, and one look
ahead per region for the rest (instances expiring before now + horizon + 9 days, their auto-renew
settings, each priced on its own at its auto-renew duration). The look ahead starts now, not at the
window's end: a candidate the policy skipped (a tag) is still charged by the platform. Its instances come
from the same DescribeInstances read as the candidates (``source.expiring_and_ahead``: one read of the
union window per region); only when that read was not made (named instances, a far window) is it its own.
The balance cannot be read (no ``bss:DescribeAcccount``, BSS down): an error in the result and the alert,
and the renewals go on without the forecast — an expiring server is the greater harm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..config.window import Window
from ..deductions import AUTO_RENEWAL, DEDUCTION_LEAD_DAYS, deduction_due_within
from ..gateway.models import Instance
from ..pricing import exact_price
from ..records import Price, RegionError
from ..tag_rules import RenewalTerms
from ..timeutil import floor_minute, utc_now
from .base import JobContext, per_region, region_wide_map
from .source import Ahead

if TYPE_CHECKING:  # the forecast's module only when a forecast is made (FUNDS_HORIZON_DAYS > 0)
    from ..funds import FundsForecast
    from ..gateway.bss import Balance  # loaded with the first balance read, not with the job
    from ..plan import RenewalPlan

BALANCE_SCOPE = "funds"  # the ``region`` of an error about the account's money, not a region
UNREADABLE = ("the balance could not be read (QueryAccountBalance; the role needs bss:DescribeAcccount, "
              "ram/billing-read-policy.json): no funds forecast: ")

Due = tuple[Instance, int]  # an auto-renewing instance and its auto-renew duration in months


def look_ahead(horizon: timedelta, now: datetime) -> Window:
    """The expiries whose deduction (expiry - 9 days) can fall in ``horizon`` from now."""
    return Window(floor_minute(now), floor_minute(now + horizon + timedelta(days=DEDUCTION_LEAD_DAYS + 1)))


def run_look_ahead(ctx: JobContext) -> Window | None:
    """The look ahead this run's forecast will need, for the source to read with its window (None: off)."""
    days = ctx.settings.funds_horizon_days
    return look_ahead(timedelta(days=days), utc_now()) if days else None


def deductions_due(ctx: JobContext, horizon: timedelta, planned: set[str], known: list[Due],
                   ahead: Ahead | None = None) -> tuple[list[tuple[str, Price | None]], list[RegionError]]:
    """Every auto-renewing instance whose deduction falls in ``horizon`` (not those this run renews).

    ``ahead``: the look ahead's instances already read per region (a region missing from it could not be
    read, and is reported by the read); None: read them here.
    """
    now = utc_now()
    window = look_ahead(horizon, now)
    seen = {instance.instance_id for instance, _ in known}

    def listed(region: str) -> Iterable[Instance]:
        if ahead is not None:
            return ahead.get(region, ())
        return ctx.gateway.instances(region, expired_start=window.start, expired_end=window.end)

    def region_due(region: str) -> list[Due]:
        instances = {i.instance_id: i for i in listed(region)
                     if i.is_prepaid and i.instance_id not in planned and i.instance_id not in seen}
        if not instances:
            return []
        return [(instances[a.instance_id], a.duration or 1)
                for a in ctx.gateway.auto_renew_attributes(region, list(instances))
                if a.instance_id in instances
                and deduction_due_within(instances[a.instance_id].expired_time, a.renewal_status, now, horizon)]

    found, errors = per_region(ctx, region_due)
    due = [item for item in known if deduction_due_within(item[0].expired_time, AUTO_RENEWAL, now, horizon)]
    due += [item for _, items in found for item in items]
    # Each at its auto-renew duration, priced like a renewal (pricing.exact_price), every region at once.
    prices = region_wide_map(lambda item: exact_price(ctx.gateway, item[0].region, item[0].instance_id,
                                                      RenewalTerms(item[1], "Month")),
                             due, lambda item: item[0].region, ctx.throughput)
    return [(instance.instance_id, price) for (instance, _), price in zip(due, prices, strict=True)], errors


def check_funds(ctx: JobContext, plan: RenewalPlan, known: list[Due], already: tuple[RegionError, ...] = (),
                ahead: Ahead | None = None, *, balance_read: Callable[[], Balance] | None = None,
                ) -> tuple[FundsForecast | None, list[RegionError]]:
    """The forecast (None when off, or when the balance is unreadable) and the errors met making it.

    ``balance_read``: the balance read already under way (renew-batch asks it while pricing); else read here.
    """
    days = ctx.settings.funds_horizon_days
    if not days:
        return None, []
    try:
        balance = (balance_read or ctx.gateway.account_balance)()
    except Exception as error:  # noqa: BLE001 - reported; the renewals go on without the forecast
        failed = RegionError.from_error(BALANCE_SCOPE, error, prefix=UNREADABLE)
        ctx.log.error("funds_unknown", code=failed.code, message=failed.message)
        return None, [failed]
    from ..funds import forecast

    renewals = [(item.instance.instance_id, item.price) for item in plan.items]
    due, errors = deductions_due(ctx, timedelta(days=days), {i for i, _ in renewals}, known, ahead)
    funds = forecast(balance, days, renewals, due)
    ctx.log.info("funds_forecast", **funds.as_dict())
    if funds.is_short:
        ctx.log.error("funds_short", **funds.as_dict())
    # A region whose listing already failed is said once, not again for the look ahead.
    said = {(e.region, e.code) for e in already}
    return funds, [e for e in errors if (e.region, e.code) not in said]
