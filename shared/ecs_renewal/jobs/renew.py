"""renew-batch: renew what policy selects, exactly once each, even when the invocation is replayed.

The pipeline (Cloud Custodian's shape):

1. source: the prepaid instances in the window (or exactly ``instance_ids``), in every region;
2. filters: charge type, blocking locks, tags; then what the owner chose (one auto-renew read per 100);
   then each instance's terms (the run's, or its own tags'). Each removed instance is a typed ``Skip``;
3. the renewal ledger (each instance's own tags, ``ledger_guard.py``): what ecs-renewal already renewed
   — a replay at any delay, a second coordinator, an operator repeating the event — is a ``Skip`` that
   names the time, the order and the expiry move, unless the event says ``force: true``. A real run
   also reconciles the ledger's open entries that are not among its candidates (earlier runs' renewals);
4. plan (pure): the count cap, then each instance's own price and the budget; a ``RenewalPlan`` with the
   ClientTokens. While the prices are asked, a run that will really renew (not dry, not awaiting approval,
   under the cap) writes each instance's ledger intent (the TagResources lane is idle then; an intent never
   charges and never blocks a renewal, ``renewal_ledger.py``, "Early intents");
5. action: ``Renew`` — one ``RenewInstance`` and the ledger's outcome per planned instance (the intent
   first, if it was not written early), or, in a dry run, the list (nothing written).

A plan stopped by a limit renews nothing at all, withdraws its early intents and says so. Every list in
the result is sorted by (region, instance id), so the result is the same whatever the interleaving.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import ApiError
from ..gateway.models import Instance
from ..idempotency.persistence.tags import TagStore
from ..idempotency.renewal_ledger import INTENT_TAG, LEDGER_TAGS, Intent, LedgerView
from ..plan import PlannedRenewal, Renewal, count_cap, plan_renewals
from ..policy import OwnerChoice, apply, renewable, with_terms
from ..records import Failure, Price, RegionError, Skip, SkipCode
from ..results import JobResult
from ..results.renew import RenewResult
from ..tag_rules import RenewalTerms
from ..timeutil import utc_now
from .base import JobContext, api_calls, bounded_map, by_region, in_background, region_wide_map
from .funds_check import check_funds, run_look_ahead
from .ledger_guard import Early, LedgerGuard, LedgerUnavailable
from .source import Ahead, Sourced, candidates, expiring_and_ahead

UNREADABLE_CHOICES = "auto-renew settings unreadable, renewing without them: "


def run(ctx: JobContext) -> RenewResult:
    settings = ctx.settings
    sourced, ahead = sourced_with_look_ahead(ctx)
    instances = sorted(sourced.instances, key=lambda i: (i.region, i.instance_id))
    kept, skipped = apply(renewable(settings), instances)
    durations: dict[str, int] = {}
    statuses, unreadable = owner_choices(ctx, kept, durations)
    choice = OwnerChoice(statuses, settings.renew_auto_renewing, settings.renew_failed_auto_renew, utc_now())
    failed_deductions = sum(1 for instance in kept if choice.deduction_failed(instance))
    kept, let_go = apply([choice], kept)
    selected, bad_terms = with_terms(settings, kept)
    guard = LedgerGuard(TagStore(ctx.gateway, LEDGER_TAGS), ctx.log, ctx.run_id, force=settings.force)
    selected, earlier, views = read_ledger_first(guard, selected)
    if not settings.dry_run:
        reconcile(ctx, guard, set(views), {e.region for e in sourced.errors})

    cap = count_cap(len(selected), settings.max_instances)
    if cap:
        ctx.log.error("cap_exceeded", **cap.as_dict())
    awaiting = settings.approval == "required"  # issue 15: plan only; approve-renewal applies it
    # Each instance's own quote (disks, bandwidth, a paid image): what RenewInstance charges, so that the
    # budget is a ceiling (issue 13) and what a person approves is what is paid (issue 15). A run that will
    # renew writes the ledger's intents meanwhile (withdrawn below if a limit stops the plan).
    early = None if settings.dry_run or awaiting else guard
    # The funds forecast's balance (one BSS call) is asked meanwhile too: it is not on the pricing lanes.
    balance_read = in_background(ctx.gateway.account_balance) if settings.funds_horizon_days and not cap else None
    prices, intents = ({}, {}) if cap else exact_prices(ctx, selected, early)
    plan = plan_renewals(selected, settings, prices)
    if plan.budget:
        ctx.log.error("budget_exceeded", **plan.budget.as_dict())
    funds_errors: list[RegionError] = []
    if not plan.stopped:  # the third limit: what cash + credit can pay, with the deductions due (issue 14)
        left_to_platform = [(s.instance, durations.get(s.instance.instance_id, 1)) for s in let_go
                            if s.code in (SkipCode.AUTO_RENEWING, SkipCode.DEDUCTION_FAILED)]
        funds, funds_errors = check_funds(ctx, plan, left_to_platform, (*sourced.errors, *unreadable),
                                          ahead, balance_read=balance_read)
        plan = plan._replace(funds=funds)
    elif balance_read is not None:
        unused_balance(ctx, balance_read)
    if plan.stopped:
        withdraw(ctx, guard, intents, selected)
    outcomes = [] if plan.stopped or awaiting else Renew(ctx, guard, views, intents).process(plan.items)

    def ordered(items: list) -> tuple:
        return tuple(sorted(items, key=_key))

    return RenewResult(
        **JobResult.facts(settings, with_window=settings.instance_ids is None),
        errors=(*sourced.errors, *unreadable, *funds_errors), failed_deductions=failed_deductions,
        plan=plan,
        renewed=ordered([o for o in outcomes if isinstance(o, Renewal)]),
        skipped=ordered([*skipped, *let_go, *bad_terms, *earlier]),
        failed=ordered([*sourced.missing, *(o for o in outcomes if isinstance(o, Failure))]),
        period=settings.period, period_unit=settings.period_unit,
        ledger=guard.summary(),
        api_calls=api_calls(ctx), awaiting_approval=awaiting and not plan.stopped,
    )


def sourced_with_look_ahead(ctx: JobContext) -> tuple[Sourced, Ahead | None]:
    """The candidates and, from the same DescribeInstances read, the funds forecast's look ahead (issue 12:
    one read of the union window per region, not one for each)."""
    window = run_look_ahead(ctx)
    if window is None or ctx.settings.instance_ids is not None:
        return candidates(ctx), None
    return expiring_and_ahead(ctx, window)


def exact_prices(ctx: JobContext, selected: Sequence[tuple[Instance, RenewalTerms]],
                 early: LedgerGuard | None = None) -> tuple[dict[str, Price | None], dict[str, Early]]:
    """Each instance's own quote (disks, bandwidth, image included), one DescribeRenewalPrice each: what
    RenewInstance charges, so a budget is a ceiling; what a person approves to pay, and what applying compares
    against (a plan is at most MAX_RENEWALS: the cap came first).

    With ``early`` (a run that will renew), each instance's ledger intent right after its quote: the two
    lanes (DescribeRenewalPrice, TagResources) fill at once, and the renewals then need only RenewInstance
    and the outcome tag. Every region at once, ``RENEW_CONCURRENCY`` instances of each.
    """
    from ..pricing import exact_price

    def quote(item: tuple[Instance, RenewalTerms]) -> tuple[Price | None, Early | None]:
        instance, terms = item
        price = exact_price(ctx.gateway, instance.region, instance.instance_id, terms)
        return price, early.intend_early(instance, terms) if early is not None else None

    done = region_wide_map(quote, list(selected), lambda item: item[0].region, ctx.throughput)
    prices = {instance.instance_id: price for (instance, _), (price, _) in zip(selected, done, strict=True)}
    intents = {instance.instance_id: intent for (instance, _), (_, intent) in zip(selected, done, strict=True)
               if intent is not None}
    return prices, intents


def unused_balance(ctx: JobContext, balance_read: Callable[[], object]) -> None:
    """The budget stopped the plan: the balance asked meanwhile is not needed (but is waited for, so that every
    call is answered before the run counts them); a failure to read it does not matter then."""
    try:
        balance_read()
    except Exception as error:  # noqa: BLE001 - no forecast is made: nothing to report
        ctx.log.info("funds_not_needed", error=type(error).__name__)


def withdraw(ctx: JobContext, guard: LedgerGuard, intents: dict[str, Early], selected: Selected) -> None:
    """A limit stopped the plan: remove the intents written while pricing (one UntagResources per 50 a region)."""
    written = {instance_id for instance_id, early in intents.items() if isinstance(early, Intent)}
    grouped = by_region([i for i, _ in selected if i.instance_id in written], lambda instance: instance.region)
    bounded_map(lambda region: guard.withdraw(region, [i.instance_id for i in grouped[region]]), list(grouped),
                ctx.throughput.region_concurrency)


Selected = list[tuple[Instance, RenewalTerms]]


def read_ledger_first(guard: LedgerGuard, selected: Selected) -> tuple[Selected, list[Skip], dict[str, LedgerView]]:
    """What the renewal ledger says about each candidate (from the tags DescribeInstances returned: no
    call). What ecs-renewal already renewed is a skip with the ledger's words, unless ``force: true``."""
    kept: Selected = []
    earlier: list[Skip] = []
    views: dict[str, LedgerView] = {}
    for instance, terms in selected:
        view = views[instance.instance_id] = guard.check(instance)
        if guard.blocks(view):
            from ..results.ledger import LedgerNote  # on the first skip the ledger decides, not at a cold start

            earlier.append(Skip(instance, SkipCode.RENEWED_EARLIER, view.detail, ledger=LedgerNote.of(view.as_dict())))
        else:
            kept.append((instance, terms))
    return kept, earlier, views


def reconcile(ctx: JobContext, guard: LedgerGuard, seen: set[str], unreadable: set[str | None]) -> None:
    """The ledger's open entries (an intent tag) that are not this run's candidates: the renewals of earlier
    runs, whose new expiry shows by now. One DescribeInstances by tag key per region (per 100 entries)."""

    def region_entries(region: str) -> None:
        try:
            entries = list(ctx.gateway.tagged_instances(region, INTENT_TAG))
        except Exception as error:  # noqa: BLE001 - the next run checks them again
            ctx.log.warning("ledger_unreadable", region=region, error=type(error).__name__)
            return
        guard.reconcile(region, entries, seen, dry_run=ctx.settings.dry_run)

    bounded_map(region_entries, [r for r in ctx.settings.regions if r not in unreadable],
                ctx.throughput.region_concurrency)


def _key(item: Renewal | Skip | Failure) -> tuple[str, str]:
    if isinstance(item, Renewal):
        return item.planned.instance.region, item.planned.instance.instance_id
    if isinstance(item, Skip):
        return item.instance.region, item.instance.instance_id
    return item.region or "", item.instance_id


def owner_choices(ctx: JobContext, selected: list[Instance],
                  durations: dict[str, int] | None = None) -> tuple[dict[str, str], list[RegionError]]:
    """Each candidate's ``RenewalStatus``: one DescribeInstanceAutoRenewAttribute per 100 of a region.

    Regions in parallel: the re-check before renewing never costs a call per instance. If a region's
    settings cannot be read, its candidates are still renewed (an expiring server is the greater harm) and
    the region is reported.
    """
    grouped = by_region(selected, lambda instance: instance.region)

    def read_region(region: str) -> dict[str, str] | RegionError:
        try:
            ids = [i.instance_id for i in grouped[region]]
            found = list(ctx.gateway.auto_renew_attributes(region, ids))
            if durations is not None:  # each auto-renew's length: what the platform will charge for
                durations.update((a.instance_id, a.duration or 1) for a in found)
            return {a.instance_id: a.renewal_status for a in found}
        except Exception as error:  # noqa: BLE001 - reported; renewals go on without this information
            return RegionError.from_error(region, error, prefix=UNREADABLE_CHOICES)

    statuses: dict[str, str] = {}
    errors: list[RegionError] = []
    for found in bounded_map(read_region, list(grouped), ctx.throughput.region_concurrency):
        if isinstance(found, RegionError):
            errors.append(found)
        else:
            statuses.update(found)
    return statuses, errors


Outcome = Renewal | Failure


class Renew:
    batch_size = 1  # RenewInstance renews one instance a call

    def __init__(self, ctx: JobContext, guard: LedgerGuard, views: dict[str, LedgerView],
                 intents: dict[str, Early] | None = None) -> None:
        self.ctx, self.guard, self.views = ctx, guard, views
        self.intents = intents or {}  # written early, while the prices were asked

    def process(self, plan: Sequence[PlannedRenewal]) -> list[Outcome]:
        """Every planned renewal's outcome. Never raises."""
        return region_wide_map(self.renew_one, plan, lambda item: item.instance.region, self.ctx.throughput)

    def renew_one(self, item: PlannedRenewal) -> Outcome:
        """The ledger's intent (unless written early), RenewInstance, the ledger's outcome: no renewal
        without a record."""
        ctx, instance, terms = self.ctx, item.instance, item.terms
        where = {"instance_id": instance.instance_id, "region": instance.region}
        if ctx.settings.dry_run:
            ctx.log.info("would_renew", **where)
            return Renewal(item, None)
        try:
            intent = self.guard.before(instance, terms, self.intents.get(instance.instance_id))
        except LedgerUnavailable as unavailable:
            return self._failed(Failure(instance.instance_id, instance.region, unavailable.code, unavailable.message))
        try:
            order_id = ctx.gateway.renew_instance(
                instance.region, instance.instance_id, period=terms.period, period_unit=terms.unit,
                expected_renew_day=terms.expected_renew_day, client_token=item.client_token,
            )
        except Exception as error:  # noqa: BLE001 - one instance's failure must not stop the others
            failure = Failure.from_error(instance.instance_id, instance.region, error)
            status = error.http_status if isinstance(error, ApiError) else None
            if status is not None and status < 500:  # ECS answered no: nothing was renewed; the ledger says so
                self.guard.refused(instance, intent, failure.code)
            return self._failed(failure, request_id=getattr(error, "request_id", None))
        self.guard.after(instance, intent, order_id)
        ctx.log.info("renewed", **where, order_id=order_id, client_token=item.client_token,
                     terms=terms.describe(), price=item.price.amount if item.price else None,
                     expired_time=instance.expired_time_text)
        return Renewal(item, order_id)

    def _failed(self, failure: Failure, **extra: object) -> Failure:
        view = self.views.get(failure.instance_id)
        if view is not None and view.refused_code == failure.code and view.outcome is not None:
            # The same refusal the ledger recorded (and that was alerted then): in the result, not re-alerted.
            failure = Failure(failure.instance_id, failure.region, failure.code, failure.message,
                              reported_at=view.outcome.at)
        self.ctx.log.error("renew_failed", **failure.as_row(), **extra)
        return failure
