"""audit-autorenew: compare every prepaid instance's auto-renew setting with the desired one; fix on request.

Reads attributes ≤100 ids a call. Drift = enabled differs from ``expected_auto_renew``, or (when it
should be on) the duration differs. With ``fix`` (and not a dry run) the drifted instances are set in
groups of ≤100 ids that share the same target — one call per 100 ids per region.

Not touched, listed under ``skipped``: instances whose owner set ``NotRenewal`` (being let go on
purpose: turning auto-renew on would pay for a server nobody wants) and instances the tag policy
excludes (e.g. ``renewal=manual``: someone renews those by hand).
"""

from __future__ import annotations

from typing import Any

from ..gateway.ecs import chunks
from ..gateway.models import AutoRenewAttribute, Instance
from ..policy import TagPolicy
from .base import JobContext, base_result, finish, per_region


def _is_drift(attribute: AutoRenewAttribute, expected: bool, duration: int) -> bool:
    if attribute.enabled != expected:
        return True
    return expected and (attribute.duration != duration or attribute.period_unit != "Month")


def audit_region(ctx: JobContext, region: str, result: dict[str, Any]) -> None:
    settings = ctx.settings
    tags = TagPolicy.from_settings(settings)
    ids = list(settings.instance_ids) if settings.instance_ids else None
    instances: dict[str, Instance] = {}
    for instance in ctx.gateway.instances(region, prepaid_only=True, instance_ids=ids):
        # Auto-renew actions fail for a whole batch on one pay-as-you-go id: only prepaid ones go in.
        if instance.is_prepaid:
            instances[instance.instance_id] = instance

    drifted: list[str] = []
    for attribute in ctx.gateway.auto_renew_attributes(region, sorted(instances)):
        instance = instances[attribute.instance_id]
        if not _is_drift(attribute, settings.expected_auto_renew, settings.duration):
            continue
        reason = _skip_reason(attribute, instance, tags)
        if reason:
            result["skipped"].append({"instance_id": attribute.instance_id, "region": region, "reason": reason})
            continue
        drifted.append(attribute.instance_id)
        result["drift"].append({
            "instance_id": attribute.instance_id,
            "region": region,
            "auto_renew_enabled": attribute.enabled,
            "duration": attribute.duration,
            "renewal_status": attribute.renewal_status,
        })
    ctx.log.info("region_audited", region=region, instances=len(instances), drift=len(drifted))

    if settings.fix and not settings.dry_run and drifted:
        _fix(ctx, region, drifted, result)


def _skip_reason(attribute: AutoRenewAttribute, instance: Instance, tags: TagPolicy) -> str | None:
    if attribute.renewal_status == "NotRenewal":
        return "owner set NotRenewal: the instance is being let go on purpose"
    return tags.reason_to_skip(instance)


def _fix(ctx: JobContext, region: str, drifted: list[str], result: dict[str, Any]) -> None:
    settings = ctx.settings
    for batch in chunks(sorted(drifted)):
        try:
            ctx.gateway.set_auto_renew(
                region, batch, enabled=settings.expected_auto_renew, duration=settings.duration
            )
        except Exception as error:  # noqa: BLE001 - a failed batch is reported; other batches go on
            code, message = getattr(error, "code", type(error).__name__), getattr(error, "message", str(error))
            result["failed"].extend(
                {"instance_id": i, "region": region, "code": code, "message": message} for i in batch
            )
            ctx.log.error("fix_failed", region=region, instances=len(batch), code=code, message=message)
            continue
        result["fixed"].extend({"instance_id": i, "region": region} for i in batch)
        ctx.log.info("fixed", region=region, instances=len(batch), instance_ids=batch)


def run(ctx: JobContext) -> dict[str, Any]:
    settings = ctx.settings
    result = base_result(ctx, with_window=False)
    result.update(drift=[], fixed=[], skipped=[], failed=[])
    result["expected"] = {"auto_renew": settings.expected_auto_renew, "duration": settings.duration}
    result["fix"] = settings.fix
    per_region(ctx, lambda region: audit_region(ctx, region, result), result["errors"])
    for key in ("drift", "fixed", "skipped", "failed"):
        result[key].sort(key=lambda row: (row["region"], row["instance_id"]))
    return finish(ctx, result)
