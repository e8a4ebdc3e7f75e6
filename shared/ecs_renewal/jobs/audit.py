"""audit-autorenew: compare every prepaid instance's auto-renew setting with the desired one; fix on request.

Streams each region: every 100 prepaid instances listed become one attribute read, while the next page
is being listed (a pipeline of two calls per region); the drifted ids gather into groups of exactly 100
that are fixed as soon as they fill, the rest at the end. So a region with n instances and d drifted
costs ceil(n/100) listing pages + ceil(n/100) attribute reads + ceil(d/100) fixes, the fewest possible,
and holds at most a few pages of records at a time, never the whole fleet.

Drift = enabled differs from ``expected_auto_renew``, or (when it should be on) the duration differs.
With ``fix`` (and not a dry run) the drifted instances are set in groups of ≤100 ids that share the same
target.

Not touched, listed under ``skipped``: instances whose owner set ``NotRenewal`` (being let go on
purpose: turning auto-renew on would pay for a server nobody wants) and instances the tag policy
excludes (e.g. ``renewal=manual``: someone renews those by hand).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..gateway.ecs import MAX_IDS_PER_CALL
from ..gateway.models import AutoRenewAttribute, Instance
from ..policy import TagPolicy
from .base import JobContext, base_result, finish, per_region

# Pages listed ahead of the attribute reads: enough to keep both calls busy, few enough to hold little.
PAGES_AHEAD = 2


def _is_drift(attribute: AutoRenewAttribute, expected: bool, duration: int) -> bool:
    if attribute.enabled != expected:
        return True
    return expected and (attribute.duration != duration or attribute.period_unit != "Month")


def audit_region(ctx: JobContext, region: str, result: dict[str, Any]) -> None:
    settings = ctx.settings
    ids = list(settings.instance_ids) if settings.instance_ids else None
    # Auto-renew actions fail for a whole batch on one pay-as-you-go id: only prepaid ones go in.
    prepaid = (i for i in ctx.gateway.instances(region, prepaid_only=True, instance_ids=ids) if i.is_prepaid)
    checker = _RegionChecker(ctx, region, result)
    # One helper thread per region reads attributes (and fixes) in page order while this one lists.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"audit-{region}") as helper:
        pending: deque[Future[None]] = deque()
        try:
            for group in _groups_of(prepaid, MAX_IDS_PER_CALL):
                pending.append(helper.submit(checker.check, group))
                while len(pending) > PAGES_AHEAD or (pending and pending[0].done()):
                    pending.popleft().result()  # re-raises the helper's error: the region fails as a whole
            while pending:
                pending.popleft().result()
        except BaseException:
            for future in pending:  # a failed region makes no further calls
                future.cancel()
            raise
        helper.submit(checker.flush).result()
    ctx.log.info("region_audited", region=region, instances=checker.instances, drift=checker.drifted)


class _RegionChecker:
    """One region's drift check and fixes, fed 100 instances at a time, in listing order (one thread)."""

    def __init__(self, ctx: JobContext, region: str, result: dict[str, Any]) -> None:
        self.ctx, self.region, self.result = ctx, region, result
        self.tags = TagPolicy.from_settings(ctx.settings)
        self.fixing = ctx.settings.fix and not ctx.settings.dry_run
        self.to_fix: list[str] = []
        self.instances = 0
        self.drifted = 0

    def check(self, group: list[Instance]) -> None:
        settings, region = self.ctx.settings, self.region
        by_id = {instance.instance_id: instance for instance in group}
        self.instances += len(by_id)
        for attribute in self.ctx.gateway.auto_renew_attributes(region, sorted(by_id)):
            if not _is_drift(attribute, settings.expected_auto_renew, settings.duration):
                continue
            reason = _skip_reason(attribute, by_id[attribute.instance_id], self.tags)
            if reason:
                self.result["skipped"].append({"instance_id": attribute.instance_id, "region": region,
                                               "reason": reason})
                continue
            self.drifted += 1
            self.result["drift"].append({
                "instance_id": attribute.instance_id,
                "region": region,
                "auto_renew_enabled": attribute.enabled,
                "duration": attribute.duration,
                "renewal_status": attribute.renewal_status,
            })
            if self.fixing:
                self.to_fix.append(attribute.instance_id)
        while len(self.to_fix) >= MAX_IDS_PER_CALL:  # a full group goes now: no call for fewer than 100
            batch, self.to_fix = self.to_fix[:MAX_IDS_PER_CALL], self.to_fix[MAX_IDS_PER_CALL:]
            _fix(self.ctx, region, batch, self.result)

    def flush(self) -> None:
        if self.to_fix:
            batch, self.to_fix = self.to_fix, []
            _fix(self.ctx, self.region, batch, self.result)


def _groups_of(items: Iterable[Instance], size: int) -> Iterator[list[Instance]]:
    """Consecutive groups of ``size`` (the last may be shorter), pulling no item beyond the group's end."""
    iterator = iter(items)
    while group := list(itertools.islice(iterator, size)):
        yield group


def _skip_reason(attribute: AutoRenewAttribute, instance: Instance, tags: TagPolicy) -> str | None:
    if attribute.renewal_status == "NotRenewal":
        return "owner set NotRenewal: the instance is being let go on purpose"
    return tags.reason_to_skip(instance)


def _fix(ctx: JobContext, region: str, batch: list[str], result: dict[str, Any]) -> None:
    """One call for ≤100 drifted ids (they share the same target); a failed batch is reported, others go on."""
    settings = ctx.settings
    batch = sorted(batch)
    try:
        ctx.gateway.set_auto_renew(region, batch, enabled=settings.expected_auto_renew, duration=settings.duration)
    except Exception as error:  # noqa: BLE001 - a failed batch is reported; other batches go on
        code, message = getattr(error, "code", type(error).__name__), getattr(error, "message", str(error))
        result["failed"].extend({"instance_id": i, "region": region, "code": code, "message": message} for i in batch)
        ctx.log.error("fix_failed", region=region, instances=len(batch), code=code, message=message)
        return
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
