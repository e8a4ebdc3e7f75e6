"""Typed job results for tests, built from the same records the jobs build (no hand-made dicts).

Each builder makes what a job makes: an :class:`Instance`, a :class:`Renewal` whose ClientToken is the one
``plan.planned`` derives, a :class:`Skip` with its :class:`SkipCode`, a :class:`RenewalPlan` with its
limits. Defaults are a real run's (a renew row has its terms, a scan row its price — ``None``: unknown);
a test overrides only what it is about. A result a real run returned as a dict becomes typed with
:func:`typed` (``contract.from_contract``), the way the CLI reads a function's answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ecs_renewal.config.window import Window
from ecs_renewal.contract import from_contract
from ecs_renewal.funds import FundsForecast
from ecs_renewal.gateway.bss import Balance
from ecs_renewal.gateway.models import AutoRenewAttribute, Instance
from ecs_renewal.plan import BudgetExceeded, CapExceeded, Renewal, RenewalPlan, planned
from ecs_renewal.records import CostEstimate, Failure, Price, RegionError, Skip, SkipCode
from ecs_renewal.results import JobResult
from ecs_renewal.results.audit import AuditResult, Drift, Fix
from ecs_renewal.results.renew import RenewResult
from ecs_renewal.results.scan import AllClear, Expiring, ScanResult
from ecs_renewal.tag_rules import Owner, RenewalTerms
from ecs_renewal.timeutil import parse_minute

REGIONS = ("cn-hangzhou", "cn-shanghai")
WINDOW = Window(parse_minute("2024-05-01T00:00Z"), parse_minute("2024-05-08T00:00Z"))
MONTH = RenewalTerms(1, "Month")


def typed(result: Mapping[str, Any]) -> JobResult:
    """A real run's result (the handler's dict) as the typed result it was made from."""
    return from_contract(result)


def instance(instance_id: str, region: str = "cn-hangzhou", expired_time: str = "2024-06-03T16:00Z", *,
             name: str = "", status: str = "Running", charge_type: str = "PrePaid", **fields: Any) -> Instance:
    return Instance(instance_id, name, region, charge_type, parse_minute(expired_time), status, **fields)


# --- scan-expiring ---------------------------------------------------------------------------------------


def expiring(instance_id: str, region: str, expired_time: str, *, owner: str | None = None, owner_kind: str = "mobile",
             tier: int | None = None, auto_renew: str | None = None, price: Price | None = None,
             price_asked: bool = True, deduction_failed: bool = False) -> Expiring:
    who = (Owner(mobile=owner) if owner_kind == "mobile" else Owner(user_id=owner)) if owner else None
    return Expiring(instance(instance_id, region, expired_time, name=f"name-{instance_id}"), "", 1.0, tier,
                    auto_renew, who, price, deduction_failed, price_asked=price_asked)


def scan_result(*expiring_rows: Expiring, **fields: Any) -> ScanResult:
    rows = tuple(expiring_rows)
    meta = {"job": "scan-expiring", "dry_run": True, "regions": REGIONS, "window": WINDOW}
    cost = CostEstimate.of([(row.instance.instance_id, row.price) for row in rows if row.price_asked])
    return ScanResult(**{**meta, "expiring": rows, "estimated_cost": cost, **fields})


def all_clear(prepaid_instances: int = 1, regions: int = 1, accounts: int = 1, window_days: float = 7) -> AllClear:
    return AllClear(prepaid_instances, regions, accounts, window_days)


# --- renew-batch -----------------------------------------------------------------------------------------


def renewed(instance_id: str, order_id: str | None = None, *, terms: RenewalTerms = MONTH,
            price: Price | None = None) -> Renewal:
    return Renewal(planned(instance(instance_id), terms, price), order_id)


def skipped(instance_id: str, reason: str, code: SkipCode = SkipCode.AUTO_RENEWING, **fields: Any) -> Skip:
    return Skip(instance(instance_id), code, reason, **fields)


def plan(*renewals: Renewal, cap: CapExceeded | None = None, budget: BudgetExceeded | None = None,
         funds: FundsForecast | None = None) -> RenewalPlan:
    """The plan the renewals came from: priced (each on its own) unless the cap stopped it first."""
    items = tuple(r.planned for r in renewals)
    cost = None if cap else budget.cost if budget else CostEstimate.of(
        [(item.instance.instance_id, item.price) for item in items if item.price is not None])
    return RenewalPlan(items, cost=cost, cap=cap, budget=budget, funds=funds)


def renew_result(*renewals: Renewal, cap: CapExceeded | None = None, budget: BudgetExceeded | None = None,
                 funds: FundsForecast | None = None, **fields: Any) -> RenewResult:
    meta = {"job": "renew-batch", "dry_run": False, "regions": REGIONS, "window": WINDOW}
    return RenewResult(**{**meta, "plan": plan(*renewals, cap=cap, budget=budget, funds=funds),
                          "renewed": renewals, **fields})


def funds_forecast(*, cash: float, credit: float = 0.0, renewals: float, renewal_count: int, deductions: float,
                   deduction_count: int, horizon_days: int = 9, currency: str = "CNY") -> FundsForecast:
    return FundsForecast(horizon_days, Balance(cash, credit, credit, currency), renewals, renewal_count,
                         deductions, deduction_count, ())


# --- audit-autorenew -------------------------------------------------------------------------------------


def drift(instance_id: str, enabled: bool, duration: int, region: str = "cn-hangzhou") -> Drift:
    status = "AutoRenewal" if enabled else "Normal"
    return Drift(region, AutoRenewAttribute(instance_id, enabled, duration, "Month", status))


def fixed(instance_id: str, region: str = "cn-hangzhou") -> Fix:
    return Fix(instance_id, region)


def audit_result(**fields: Any) -> AuditResult:
    return AuditResult(**{"job": "audit-autorenew", "dry_run": False, "regions": REGIONS, **fields})


# --- what any job reports --------------------------------------------------------------------------------


def failure(instance_id: str = "i-bad", code: str = "InvalidAccountStatus.NotEnoughBalance",
            message: str = "no money", region: str = "cn-hangzhou") -> Failure:
    return Failure(instance_id, region, code, message)


def region_error(region: str = "cn-beijing", code: str = "Forbidden.RAM", message: str = "User not authorized",
                 **fields: Any) -> RegionError:
    return RegionError(region, code, message, **fields)


def other_job(job: str, **fields: Any) -> JobResult:
    """A result of a job the messages do not know (or of none: ``job=""``)."""
    return JobResult(**{"job": job, "dry_run": False, "regions": (), **fields})
