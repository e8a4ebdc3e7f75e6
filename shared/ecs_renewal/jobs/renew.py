"""renew-batch: renew what policy selects, exactly once each, even when the invocation is replayed.

1. Candidates: the prepaid instances in the window (or exactly ``instance_ids``), in every region.
2. Policy removes what must not be touched (pay-as-you-go, blocking locks, tags) with a reason.
3. The cap: more selected instances than ``max_instances`` renews nothing at all and says so.
4. Each remaining instance gets one ``RenewInstance`` with a deterministic ClientToken; a failure is
   recorded for that instance and the others go on. A dry run lists them with ``order_id`` null.

Regions are read and renewed in parallel, and ``RENEW_CONCURRENCY`` renewals per region are in flight at
once (the caller's rate limiter keeps the pace). Every list in the result is sorted by (region, instance
id), so the result is the same whatever the interleaving.
"""

from __future__ import annotations

from typing import Any

from ..errors import ApiError
from ..gateway.models import Instance
from ..idempotency import renewal_client_token
from ..policy import TagPolicy, renewal_skip_reason
from ..pricing import PriceBook, estimate
from ..tag_rules import RenewalTerms, renewal_terms
from .base import JobContext, base_result, bounded_map, finish, per_region, region_error
from .scan import expiring_instances, prices_of

Plan = tuple[Instance, RenewalTerms]

AUTO_RENEWING = "auto-renew is on: the platform renews it (from 9 days before expiry)"
OWNER_CHOICE_REASONS = {
    "NotRenewal": "owner set NotRenewal: the instance is being let go on purpose",
    "AutoRenewal": AUTO_RENEWING,
}


def _named_instances(ctx: JobContext, region: str, wanted: set[str]) -> list[Instance]:
    ids = sorted(wanted)
    return list(ctx.gateway.instances(region, prepaid_only=False, instance_ids=ids))


def select_candidates(ctx: JobContext, result: dict[str, Any]) -> list[Instance]:
    ids = ctx.settings.instance_ids
    if ids is None:
        found = per_region(ctx, lambda region: expiring_instances(ctx, region), result["errors"])
        return [instance for _, instances in found for instance in instances]
    wanted = set(ids)
    found = per_region(ctx, lambda region: _named_instances(ctx, region, wanted), result["errors"])
    candidates = [instance for _, instances in found for instance in instances]
    seen = {instance.instance_id for instance in candidates}
    failed_regions = {error["region"] for error in result["errors"]}
    for missing in sorted(wanted - seen):
        if failed_regions:  # it may live in a region we could not read: not renewed, and said so
            result["failed"].append({
                "instance_id": missing, "region": None, "code": "RegionUnavailable",
                "message": f"not found in the regions read; could not read {', '.join(sorted(failed_regions))}",
            })
            continue
        result["failed"].append({
            "instance_id": missing, "region": None, "code": "InvalidInstanceId.NotFound",
            "message": f"not found in {', '.join(ctx.settings.regions)}",
        })
    return candidates


def run(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    result = base_result(ctx, with_window=settings.instance_ids is None)
    result.update(renewed=[], skipped=[], failed=[])
    result["period"] = {"period": settings.period, "unit": settings.period_unit}

    tags = TagPolicy.from_settings(settings)
    selected: list[Instance] = []
    for instance in sorted(select_candidates(ctx, result), key=lambda i: (i.region, i.instance_id)):
        reason = renewal_skip_reason(instance, tags)
        if reason:
            result["skipped"].append({"instance_id": instance.instance_id, "region": instance.region, "reason": reason})
        else:
            selected.append(instance)
    selected = _respect_owner_choices(ctx, selected, result)
    plan = _terms_from_tags(ctx, selected, result)

    if len(plan) > settings.max_instances:
        result["cap_exceeded"] = {"candidates": len(plan), "max_instances": settings.max_instances}
        ctx.log.error("cap_exceeded", candidates=len(plan), max_instances=settings.max_instances)
        return _sorted(finish(ctx, result))

    prices = _prices(ctx, plan)
    cost = estimate((instance.instance_id, prices[instance.instance_id]) for instance, _ in plan)
    result["estimated_cost"] = cost.as_dict()
    if settings.max_cost is not None and (cost.unknown or cost.total > settings.max_cost):
        # The second safety cap: over budget, or a price we cannot know, renews nothing.
        result["budget_exceeded"] = {**cost.as_dict(), "max_cost": settings.max_cost,
                                     "unknown_instances": sorted(cost.unknown)[:20]}
        ctx.log.error("budget_exceeded", **result["budget_exceeded"])
        return _sorted(finish(ctx, result))

    _renew_all(ctx, plan, prices, result)
    return _sorted(finish(ctx, result))


def _sorted(result: dict[str, Any]) -> dict[str, Any]:
    for key in ("renewed", "skipped", "failed"):
        result[key].sort(key=lambda row: (row["region"] or "", row["instance_id"]))
    return result


def _terms_from_tags(ctx: JobContext, selected: list[Instance], result: dict[str, Any]) -> list[Plan]:
    """Each instance's renewal terms: the run's, or its own tags'. An unusable tag is a skip, not a guess."""
    settings = ctx.settings
    window_days = (settings.window.end - settings.window.start).days if settings.instance_ids is None else 0
    plan: list[Plan] = []
    for instance in selected:
        terms = renewal_terms(instance.tags, settings.tag_names, settings.period, settings.period_unit)
        if isinstance(terms, RenewalTerms) and terms.from_tags and window_days > terms.min_days:
            terms = (f"tagged terms ({terms.describe()}) are shorter than the {window_days}-day window: it would be "
                     "renewed again by the next run; tag a longer period or use a shorter window")
        if isinstance(terms, str):
            result["skipped"].append({"instance_id": instance.instance_id, "region": instance.region, "reason": terms})
        else:
            plan.append((instance, terms))
    return plan


def _prices(ctx: JobContext, plan: list[Plan]) -> dict[str, tuple[float, str] | None]:
    """DescribeRenewalPrice, cached by region + type + terms: a few calls for a whole fleet."""
    found = prices_of(ctx, PriceBook(ctx.gateway.caller), plan)
    return {instance.instance_id: price for (instance, _), price in zip(plan, found, strict=True)}


def _by_region(instances: list[Instance]) -> dict[str, list[Instance]]:
    grouped: dict[str, list[Instance]] = {}
    for instance in instances:
        grouped.setdefault(instance.region, []).append(instance)
    return grouped


def _renew_all(
    ctx: JobContext, plan: list[Plan], prices: dict[str, tuple[float, str] | None], result: dict[str, Any]
) -> None:
    """Regions in parallel; within each, RENEW_CONCURRENCY renewals in flight. Never raises."""
    grouped: dict[str, list[Plan]] = {}
    for item in plan:
        grouped.setdefault(item[0].region, []).append(item)

    def renew_region(region: str) -> None:
        bounded_map(lambda item: _renew_one(ctx, *item, prices.get(item[0].instance_id), result), grouped[region],
                    ctx.throughput.renew_concurrency)

    bounded_map(renew_region, list(grouped), ctx.throughput.region_concurrency)


def _respect_owner_choices(ctx: JobContext, selected: list[Instance], result: dict[str, Any]) -> list[Instance]:
    """Skip what the owner already decided: ``NotRenewal`` (let go on purpose) and ``AutoRenewal``.

    One DescribeInstanceAutoRenewAttribute per 100 candidates of a region (regions in parallel): the
    re-check before renewing never costs a call per instance. If a region's settings cannot be read,
    its candidates are still renewed (an expiring server is the greater harm) and the region is reported.
    """
    grouped = _by_region(selected)

    def read_region(region: str) -> tuple[dict[str, str], dict[str, str] | None]:
        try:
            ids = [i.instance_id for i in grouped[region]]
            return {a.instance_id: a.renewal_status for a in ctx.gateway.auto_renew_attributes(region, ids)}, None
        except Exception as error:  # noqa: BLE001 - reported; renewals go on without this information
            entry = region_error(region, error)
            entry["message"] = f"auto-renew settings unreadable, renewing without them: {entry['message']}"
            return {}, entry

    status: dict[str, str] = {}
    for found, error in bounded_map(read_region, list(grouped), ctx.throughput.region_concurrency):
        status.update(found)
        if error:
            result["errors"].append(error)
    kept: list[Instance] = []
    for instance in selected:
        reason = OWNER_CHOICE_REASONS.get(status.get(instance.instance_id, ""))
        if reason and not (reason is AUTO_RENEWING and ctx.settings.renew_auto_renewing):
            result["skipped"].append({"instance_id": instance.instance_id, "region": instance.region, "reason": reason})
        else:
            kept.append(instance)
    return kept


def _renew_one(
    ctx: JobContext, instance: Instance, terms: RenewalTerms, price: tuple[float, str] | None, result: dict[str, Any]
) -> None:
    """Renew (or, in a dry run, list) one instance; its failure lands in ``failed`` and never raises."""
    settings = ctx.settings
    token = renewal_client_token(instance.instance_id, instance.expired_time, terms.period, terms.unit,
                                 terms.expected_renew_day)
    entry: dict[str, Any] = {
        "instance_id": instance.instance_id,
        "region": instance.region,
        "expired_time": instance.expired_time_text,
        "order_id": None,
        "client_token": token,
        "terms": terms.describe(),
        "price": price[0] if price else None,
        "currency": price[1] if price else None,
    }
    if settings.dry_run:
        result["renewed"].append(entry)
        ctx.log.info("would_renew", instance_id=instance.instance_id, region=instance.region)
        return
    try:
        entry["order_id"] = ctx.gateway.renew_instance(
            instance.region, instance.instance_id, period=terms.period, period_unit=terms.unit,
            expected_renew_day=terms.expected_renew_day, client_token=token,
        )
    except Exception as error:  # noqa: BLE001 - one instance's failure must not stop the others
        code = error.code if isinstance(error, ApiError) else type(error).__name__
        message = error.message if isinstance(error, ApiError) else str(error)[:300]
        result["failed"].append(
            {"instance_id": instance.instance_id, "region": instance.region, "code": code, "message": message}
        )
        ctx.log.error("renew_failed", instance_id=instance.instance_id, region=instance.region,
                      code=code, message=message, request_id=getattr(error, "request_id", None))
        return
    result["renewed"].append(entry)
    ctx.log.info("renewed", instance_id=instance.instance_id, region=instance.region,
                 order_id=entry["order_id"], client_token=token, terms=entry["terms"], price=entry["price"])
