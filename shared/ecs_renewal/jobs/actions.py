"""The actions: what changes state or costs money, each with its batch size. They return outcomes.

- :class:`Renew`: one ``RenewInstance`` per planned renewal (the API takes one instance), with the plan's
  ClientToken; regions in parallel, ``RENEW_CONCURRENCY`` in flight per region. A dry run lists them.
- :class:`SetAutoRenew`: one ``ModifyInstanceAutoRenewAttribute`` per ≤100 ids that share a target.

One instance's (or batch's) failure is an outcome, never an exception: the others go on.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..gateway.paging import MAX_IDS_PER_CALL
from ..records import Failure, Fix, PlannedRenewal, Renewal
from .base import JobContext, bounded_map, by_region

Outcome = Renewal | Failure


class Renew:
    batch_size = 1  # RenewInstance renews one instance a call

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx

    def process(self, plan: Sequence[PlannedRenewal]) -> list[Outcome]:
        """Every planned renewal's outcome. Never raises."""
        grouped = by_region(plan, lambda item: item.instance.region)
        width = self.ctx.throughput

        def renew_region(region: str) -> list[Outcome]:
            return bounded_map(self.renew_one, grouped[region], width.renew_concurrency)

        return [outcome for region in bounded_map(renew_region, list(grouped), width.region_concurrency)
                for outcome in region]

    def renew_one(self, item: PlannedRenewal) -> Outcome:
        ctx, instance, terms = self.ctx, item.instance, item.terms
        where = {"instance_id": instance.instance_id, "region": instance.region}
        if ctx.settings.dry_run:
            ctx.log.info("would_renew", **where)
            return Renewal(item, None)
        try:
            order_id = ctx.gateway.renew_instance(
                instance.region, instance.instance_id, period=terms.period, period_unit=terms.unit,
                expected_renew_day=terms.expected_renew_day, client_token=item.client_token,
            )
        except Exception as error:  # noqa: BLE001 - one instance's failure must not stop the others
            failure = Failure.from_error(instance.instance_id, instance.region, error)
            ctx.log.error("renew_failed", **failure.as_row(), request_id=getattr(error, "request_id", None))
            return failure
        ctx.log.info("renewed", **where, order_id=order_id, client_token=item.client_token,
                     terms=terms.describe(), price=item.price.amount if item.price else None)
        return Renewal(item, order_id)


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
