"""audit-autorenew: compare every prepaid instance's auto-renew setting with the desired one; fix on request.

Streams each region: every 100 prepaid instances listed become one attribute read, while the next page
is being listed (a pipeline of two calls per region); the drifted ids gather into groups of exactly 100
that are fixed (``SetAutoRenew``) as soon as they fill, the rest at the end. So a region with n instances
and d drifted costs ceil(n/100) listing pages + ceil(n/100) attribute reads + ceil(d/100) fixes, the
fewest possible, and holds at most a few pages of records at a time, never the whole fleet.

Drift = enabled differs from ``expected_auto_renew``, or (when it should be on) the duration differs.
With ``fix`` (and not a dry run) the drifted instances are set in groups of ≤100 ids that share the same
target.

Not touched, listed under ``skipped`` (the filters renew-batch uses too): instances whose owner set
``NotRenewal`` (being let go on purpose: turning auto-renew on would pay for a server nobody wants) and
instances the tag policy excludes (e.g. ``renewal=manual``: someone renews those by hand).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from ..gateway.models import AutoRenewAttribute, Instance
from ..gateway.paging import MAX_IDS_PER_CALL
from ..policy import OwnerChoice, Tags, apply
from ..records import Failure, RegionError, Skip, sort_key
from ..results import JobResult
from ..results.audit import AuditResult, Drift, Fix
from .base import JobContext, api_calls, per_region

# Pages listed ahead of the attribute reads: enough to keep both calls busy, few enough to hold little.
PAGES_AHEAD = 2


class SetAutoRenew:
    """Set auto-renew on drifted instances to the run's target (``expected_auto_renew``, ``duration``)."""

    batch_size = MAX_IDS_PER_CALL

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def process(self, region: str, instance_ids: Sequence[str]) -> tuple[list[Fix], list[Failure]]:
        """One call for ≤``batch_size`` ids; a failed batch is reported for each of its ids, never raised."""
        ctx, settings = self.ctx, self.ctx.settings
        batch = sorted(instance_ids)
        try:
            ctx.gateway.set_auto_renew(region, batch, enabled=settings.expected_auto_renew,
                                       duration=settings.duration)
        except Exception as error:  # noqa: BLE001 - a failed batch is reported; other batches go on
            failures = [Failure.from_error(i, region, error) for i in batch]
            ctx.log.error("fix_failed", region=region, instances=len(batch), code=failures[0].code,
                          message=failures[0].message)
            return [], failures
        ctx.log.info("fixed", region=region, instances=len(batch), instance_ids=batch)
        return [Fix(i, region) for i in batch], []


def is_drift(attribute: AutoRenewAttribute, expected: bool, duration: int) -> bool:
    if attribute.enabled != expected:
        return True
    return expected and (attribute.duration != duration or attribute.period_unit != "Month")


class RegionAudit:
    """One region's findings, owned by that region's helper thread until the region is done."""

    def __init__(self) -> None:  # a plain accumulator: cheaper to define at a cold start than a dataclass
        self.drift: list[Drift] = []
        self.skipped: list[Skip] = []
        self.fixed: list[Fix] = []
        self.failed: list[Failure] = []
        self.instances = 0
        self.error: RegionError | None = None  # the region stopped part-way


def audit_region(ctx: JobContext, region: str) -> RegionAudit:
    """One region's audit; a failure part-way keeps what was already found and fixed, and says why."""
    checker = _RegionChecker(ctx, region)
    try:
        _stream(ctx, region, checker)
    except Exception as error:  # noqa: BLE001 - isolation: the fixes already made stay in the result
        checker.found.error = RegionError.from_error(region, error)
        ctx.log.error("region_failed", **checker.found.error.as_row())
        return checker.found
    found = checker.found
    ctx.log.info("region_audited", region=region, instances=found.instances, drift=len(found.drift))
    return found


def _stream(ctx: JobContext, region: str, checker: _RegionChecker) -> None:
    ids = list(ctx.settings.instance_ids) if ctx.settings.instance_ids else None
    # Auto-renew actions fail for a whole batch on one pay-as-you-go id: only prepaid ones go in.
    prepaid = (i for i in ctx.gateway.instances(region, prepaid_only=True, instance_ids=ids) if i.is_prepaid)
    # One helper thread per region reads attributes (and fixes) in page order while this one lists.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"audit-{region}") as helper:
        pending: deque[Future[None]] = deque()
        try:
            for group in _groups_of(prepaid, SetAutoRenew.batch_size):
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


class _RegionChecker:
    """One region's drift check and fixes, fed 100 instances at a time, in listing order (one thread)."""

    def __init__(self, ctx: JobContext, region: str) -> None:
        self.ctx, self.region = ctx, region
        self.tags = Tags.from_settings(ctx.settings)
        self.fixing = ctx.settings.fix and not ctx.settings.dry_run
        self.fixer = SetAutoRenew(ctx)
        self.to_fix: list[str] = []
        self.found = RegionAudit()

    def check(self, group: list[Instance]) -> None:
        settings, found = self.ctx.settings, self.found
        by_id = {instance.instance_id: instance for instance in group}
        found.instances += len(by_id)
        attributes = [a for a in self.ctx.gateway.auto_renew_attributes(self.region, sorted(by_id))
                      if is_drift(a, settings.expected_auto_renew, settings.duration)]
        statuses = {a.instance_id: a.renewal_status for a in attributes}
        kept, skipped = apply([OwnerChoice(statuses), self.tags], (by_id[a.instance_id] for a in attributes))
        found.skipped += skipped
        kept_ids = {instance.instance_id for instance in kept}
        found.drift += [Drift(self.region, a) for a in attributes if a.instance_id in kept_ids]
        if self.fixing:
            self.to_fix += [a.instance_id for a in attributes if a.instance_id in kept_ids]
        while len(self.to_fix) >= self.fixer.batch_size:  # a full group goes now: no call for fewer than 100
            batch, self.to_fix = self.to_fix[: self.fixer.batch_size], self.to_fix[self.fixer.batch_size :]
            self._fix(batch)

    def flush(self) -> None:
        if self.to_fix:
            batch, self.to_fix = self.to_fix, []
            self._fix(batch)

    def _fix(self, batch: list[str]) -> None:
        fixed, failed = self.fixer.process(self.region, batch)
        self.found.fixed += fixed
        self.found.failed += failed


def _groups_of(items: Iterable[Instance], size: int) -> Iterator[list[Instance]]:
    """Consecutive groups of ``size`` (the last may be shorter), pulling no item beyond the group's end."""
    iterator = iter(items)
    while group := list(itertools.islice(iterator, size)):
        yield group


def run(ctx: JobContext) -> AuditResult:
    settings = ctx.settings
    found, errors = per_region(ctx, lambda region: audit_region(ctx, region))
    audits = [audit for _, audit in found]

    def gathered(name: str) -> tuple:
        return tuple(sorted((item for audit in audits for item in getattr(audit, name)),
                            key=lambda item: sort_key(item.as_row())))

    return AuditResult(
        **JobResult.facts(settings, with_window=False),
        errors=(*errors, *(audit.error for audit in audits if audit.error)),
        drift=gathered("drift"), fixed=gathered("fixed"), skipped=gathered("skipped"), failed=gathered("failed"),
        expected_auto_renew=settings.expected_auto_renew, duration=settings.duration, fix=settings.fix,
        api_calls=api_calls(ctx),
    )
