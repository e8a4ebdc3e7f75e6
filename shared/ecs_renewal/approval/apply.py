"""Apply exactly the plan: re-read every instance, renew only entries that still match, refuse the rest.

An entry is renewed only when, read again now, the instance is still prepaid, not locked, has the very
expiry it was planned at (so nobody renewed it since: a renewal moves the expiry), its ClientToken is
still the one the plan names, the store's ledger has no renewal under that token, and today's price for
the planned terms is not higher than the planned price. Every other entry is refused with its reason.
Nothing outside the plan is ever read for renewal, let alone renewed: the instance ids come from the plan.

Applying twice is a no-op: the second time the ledger names each order (and the expiry has moved); and
were the ledger lost, the same ClientToken makes ECS answer with the first order, never a second charge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError
from ..gateway.ecs import EcsGateway
from ..gateway.models import Instance
from ..idempotency import renewal_client_token
from ..pricing import exact_price  # also renew-batch's: the quote a plan carries is the one applying compares
from ..tag_rules import RenewalTerms
from ..timeutil import parse_expired_time
from .document import Plan, PlanEntry
from .store import ObjectStore

LEDGER_PREFIX = "renewals/"


@dataclass
class ApplyOutcome:
    plan_id: str
    dry_run: bool
    renewed: list[dict[str, Any]] = field(default_factory=list)
    already: list[dict[str, Any]] = field(default_factory=list)  # renewed by an earlier apply of this plan
    refused: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def spent(self) -> dict[str, float]:
        sums: dict[str, float] = {}
        for row in self.renewed:
            if row.get("order_id") and row.get("price") is not None:
                sums[row["currency"]] = round(sums.get(row["currency"], 0.0) + row["price"], 2)
        return sums

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "dry_run": self.dry_run, "renewed": self.renewed, "already": self.already,
                "refused": self.refused, "failed": self.failed, "spent": self.spent}


def _row(entry: PlanEntry, **extra: Any) -> dict[str, Any]:
    return {"instance_id": entry.instance_id, "region": entry.region, "account": entry.account, **extra}


def refusal(entry: PlanEntry, now: Instance | None, token_renewed: bool) -> tuple[str, str] | None:
    """Why this entry must not be renewed now (code, reason), or None when it still matches the plan."""
    if token_renewed:
        return None  # handled as "already" by the caller
    if now is None:
        return "InstanceNotFound", "not found any more (released, or moved out of the account)"
    if not now.is_prepaid:
        return "NoLongerPrepaid", f"its billing changed to {now.charge_type or 'unknown'} since planning"
    if now.locks:
        return "Locked", f"locked since planning ({', '.join(now.locks)}): renewing would not unlock it"
    if now.expired_time_text != entry.expired_time:
        return "ExpiryChanged", (f"its expiry moved from {entry.expired_time} to {now.expired_time_text} since "
                                 "planning: renewed by someone else (or changed); not renewed again")
    expected = renewal_client_token(entry.instance_id, parse_expired_time(entry.expired_time), entry.period,
                                    entry.unit, entry.expected_renew_day)
    if expected != entry.client_token:
        return "TokenMismatch", "the plan's ClientToken does not belong to this instance and expiry"
    return None


class PlanApplier:
    def __init__(self, gateway: EcsGateway, ledger: ObjectStore | None, *, dry_run: bool,
                 log: Callable[..., None] | None = None) -> None:
        self.gateway = gateway
        self.ledger = ledger
        self.dry_run = dry_run
        self.log = log or (lambda event, **fields: None)

    def apply(self, plan: Plan) -> ApplyOutcome:
        outcome = ApplyOutcome(plan.plan_id, self.dry_run)
        by_region: dict[str, list[PlanEntry]] = {}
        for entry in plan.entries:
            by_region.setdefault(entry.region, []).append(entry)
        for region, entries in sorted(by_region.items()):
            self._apply_region(region, entries, outcome)
        for rows in (outcome.renewed, outcome.already, outcome.refused, outcome.failed):
            rows.sort(key=lambda r: (r["region"], r["instance_id"]))
        return outcome

    def _apply_region(self, region: str, entries: Sequence[PlanEntry], outcome: ApplyOutcome) -> None:
        try:
            found = {i.instance_id: i for i in self.gateway.instances(
                region, prepaid_only=False, instance_ids=[e.instance_id for e in entries])}
        except Exception as error:  # noqa: BLE001 - the region's entries fail, the other regions go on
            code, message = (error.code, error.message) if isinstance(error, ApiError) else (type(error).__name__,
                                                                                                 str(error)[:300])
            outcome.failed += [_row(e, code=code, message=f"could not re-read the instance: {message}")
                               for e in entries]
            return
        for entry in entries:
            self._apply_one(entry, found.get(entry.instance_id), outcome)

    def _ledger_record(self, entry: PlanEntry) -> dict[str, Any] | None:
        raw = self.ledger.get(LEDGER_PREFIX + entry.client_token) if self.ledger else None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _apply_one(self, entry: PlanEntry, now: Instance | None, outcome: ApplyOutcome) -> None:
        earlier = self._ledger_record(entry)
        if earlier is not None:
            outcome.already.append(_row(entry, order_id=earlier.get("order_id"), plan_id=earlier.get("plan_id"),
                                        reason="already renewed under this ClientToken: nothing paid again"))
            return
        why = refusal(entry, now, False)
        if why is None:
            why = self._price_refusal(entry)
        if why is not None:
            outcome.refused.append(_row(entry, code=why[0], reason=why[1]))
            self.log("apply_refused", instance_id=entry.instance_id, region=entry.region, code=why[0])
            return
        row = _row(entry, expired_time=entry.expired_time, terms=entry.terms, client_token=entry.client_token,
                   price=entry.price, currency=entry.currency, order_id=None)
        if self.dry_run:
            outcome.renewed.append(row)
            return
        try:
            row["order_id"] = self.gateway.renew_instance(
                entry.region, entry.instance_id, period=entry.period, period_unit=entry.unit,
                expected_renew_day=entry.expected_renew_day, client_token=entry.client_token)
        except Exception as error:  # noqa: BLE001 - one instance's failure never stops the others
            code, message = (error.code, error.message) if isinstance(error, ApiError) else (type(error).__name__,
                                                                                                 str(error)[:300])
            outcome.failed.append(_row(entry, code=code, message=message))
            self.log("renew_failed", instance_id=entry.instance_id, region=entry.region, code=code)
            return
        outcome.renewed.append(row)
        self.log("renewed", instance_id=entry.instance_id, region=entry.region, order_id=row["order_id"],
                 client_token=entry.client_token, plan_id=outcome.plan_id)
        if self.ledger is not None:
            record = {"order_id": row["order_id"], "plan_id": outcome.plan_id, "instance_id": entry.instance_id}
            self.ledger.put_if_absent(LEDGER_PREFIX + entry.client_token, json.dumps(record).encode())

    def _price_refusal(self, entry: PlanEntry) -> tuple[str, str] | None:
        if entry.price is None:
            return "PriceUnknown", "the plan had no price for it: nothing is bought at an unknown price"
        terms = RenewalTerms(entry.period, entry.unit, entry.expected_renew_day)
        quote = exact_price(self.gateway, entry.region, entry.instance_id, terms)
        if quote is None:
            return "PriceUnavailable", "today's price could not be read: not renewed (never bought blind)"
        if quote.currency != entry.currency or quote.amount > entry.price + 1e-9:
            return "PriceRose", (f"the price rose from {entry.price:.2f} {entry.currency} to {quote.amount:.2f} "
                                 f"{quote.currency} since planning: approve a new plan")
        return None


def apply_with_environment(plan: Plan, store: ObjectStore | None, context: Any, environ: Mapping[str, str],
                           log: Any) -> dict[str, Any]:
    """Apply with the invocation's STS credentials and the environment's settings (DRY_RUN, endpoints, QPS)."""
    import time

    from ..callpath import TIMEOUT_MARGIN_SECONDS, CallPath
    from ..credentials import require_sts, resolve_base_credentials
    from ..runtime import _function_timeout, _read_timeout
    from ..settings import build_settings, throughput_settings

    regions = sorted({entry.region for entry in plan.entries}) or ["cn-hangzhou"]
    settings = build_settings("renew-batch", json.dumps({"regions": regions}).encode(), environ)
    base = resolve_base_credentials(context, environ)
    require_sts(base, assume_role_arn=settings.assume_role_arn)
    deadline = time.monotonic() + max(5.0, _function_timeout(context, environ) - TIMEOUT_MARGIN_SECONDS)
    request_id = getattr(context, "request_id", None)
    calls = CallPath(settings, throughput_settings(environ), lambda: resolve_base_credentials(context, environ),
                     base, log, request_id, deadline, read_timeout=_read_timeout(environ))
    applier = PlanApplier(EcsGateway(calls.caller()), store, dry_run=settings.dry_run, log=log.info)
    return applier.apply(plan).as_dict()
