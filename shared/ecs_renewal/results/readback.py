"""The contract's dict back into the typed result: :func:`ecs_renewal.contract.from_contract` (the inverse
of ``to_contract``).

For a result that came back as JSON — the CLI's ``invoke`` (a function's answer from Function Compute) —
so the table, the CSV, the page and the exit status read typed fields as they do for a local run. What the
dict does not carry is filled with what renders the same: an instance's unlisted fields are empty, an
unknown price beyond the 20 ids listed is :data:`UNLISTED`, a multi-account run's calls are its first
account's. ``to_contract(from_contract(d)) == d`` for every dict a job returns (tests/integration).
Imported only when a dict is read back: no handler loads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..config.window import Window
from ..funds import FundsForecast
from ..gateway.bss import Balance
from ..gateway.models import AutoRenewAttribute, Instance
from ..plan import BudgetExceeded, CapExceeded, PlannedRenewal, Renewal, RenewalPlan, planned
from ..records import CostEstimate, Failure, Price, RegionError, Skip, SkipCode
from ..tag_rules import Owner, RenewalTerms
from ..timeutil import parse_minute
from . import Alerts, JobResult
from .approval import ApprovalOutcome
from .audit import AuditResult, Drift, Fix
from .ledger import LedgerAlert, LedgerNote, LedgerSummary, LeftoverIntents
from .renew import RenewResult
from .runs import LIMIT_KEYS, ROW_LISTS, AccountFailed, AccountsResult, CoordinatorResult
from .scan import AllClear, Expiring, ScanResult

_TERMS = re.compile(r"(\d+) ([A-Za-z]+?)s?")
_DAY = re.compile(r"to day (\d+)")
Row = Mapping[str, Any]
UNLISTED = "\uffff"  # an instance without a price that the dict counts but does not name (sorts last)


def from_contract(data: Row) -> JobResult:
    """The typed result a contract's dict was made from (by job; a fan-out and many accounts by their keys)."""
    if data.get("coordinator"):
        return CoordinatorResult(**_meta(data), shards=tuple(dict(s) for s in data.get("shards") or ()))
    if isinstance(data.get("accounts"), list):
        return _accounts(data)
    return _BY_JOB.get(str(data.get("job") or ""), _generic)(data, _meta(data))


# --- what every result has -------------------------------------------------------------------------------


def _meta(data: Row) -> dict[str, Any]:
    window = data.get("window")
    alerts = data.get("alerts")
    return {"job": str(data.get("job") or ""), "dry_run": bool(data.get("dry_run")),
            "regions": tuple(data.get("regions") or ()), "errors": tuple(map(region_error, data.get("errors") or ())),
            "window": Window(parse_minute(window["start"]), parse_minute(window["end"])) if window else None,
            "api_calls": dict(data.get("api_calls") or {}), "account_id": data.get("account_id"),
            "shard": data.get("shard"), "request_id": data.get("request_id"),
            "alerts": Alerts(**alerts) if alerts else None}


def _generic(data: Row, meta: dict[str, Any]) -> JobResult:
    return JobResult(**meta)


def region_error(row: Row) -> RegionError:
    return RegionError(row.get("region"), str(row.get("code") or ""), str(row.get("message") or ""),
                       account_id=row.get("account_id"), names_account="account_id" in row,
                       missing_action=row.get("missing_action"))


def instance(row: Row, **fields: Any) -> Instance:
    """The instance a row names; what the row does not say is empty (it renders as the row did)."""
    expired = row.get("expired_time")
    return Instance(str(row.get("instance_id") or ""), str(row.get("instance_name") or ""),
                    str(row.get("region") or ""), fields.pop("charge_type", ""),
                    parse_minute(expired) if expired else datetime.min, str(row.get("status") or ""), **fields)


def price(row: Row) -> Price | None:
    return Price(row["price"], row.get("currency") or "") if row.get("price") is not None else None


def cost(figures: Row | None, listed: list[str] | tuple[str, ...] = ()) -> CostEstimate | None:
    if figures is None:
        return None
    unknown = tuple(listed) + (UNLISTED,) * (int(figures.get("unknown") or 0) - len(listed))
    return CostEstimate(float(figures.get("amount") or 0), figures.get("currency") or "",
                        int(figures.get("priced") or 0), unknown)


def failure(row: Row) -> Failure:
    at = row.get("reported_at")
    return Failure(str(row.get("instance_id") or ""), row.get("region"), str(row.get("code") or ""),
                   str(row.get("message") or ""), reported_at=datetime.fromisoformat(at) if at else None)


def skip(row: Row) -> Skip:
    code = row.get("code")
    known = code in SkipCode._value2member_map_
    ledger = row.get("ledger")
    return Skip(instance(row), SkipCode(code) if known else SkipCode.UNSTATED, str(row.get("reason") or ""),
                ledger=LedgerNote.of(ledger) if ledger else None)


def terms(text: str) -> RenewalTerms:
    """``RenewalTerms.describe()`` read back: "1 Month", "3 Months", "to day 5"."""
    day = _DAY.fullmatch(text)
    if day:
        return RenewalTerms(None, None, int(day.group(1)))
    match = _TERMS.fullmatch(text)
    return RenewalTerms(int(match.group(1)), match.group(2)) if match else RenewalTerms(None, text or None)


# --- each job --------------------------------------------------------------------------------------------


def _expiring(row: Row) -> Expiring:
    owner, kind = row.get("owner"), row.get("owner_kind")
    who = (Owner(mobile=owner) if kind == "mobile" else Owner(user_id=owner)) if owner else None
    return Expiring(instance(row, charge_type="PrePaid"), row.get("expires_local") or "", row.get("days_left") or 0,
                    row.get("tier"), row.get("auto_renew"), who, price(row), bool(row.get("deduction_failed")),
                    price_asked="price" in row)


def _scan(data: Row, meta: dict[str, Any]) -> ScanResult:
    clear = data.get("all_clear")
    return ScanResult(**meta, expiring=tuple(map(_expiring, data.get("expiring") or ())),
                      estimated_cost=cost(data.get("estimated_cost")) or CostEstimate(),
                      time_zone=data.get("time_zone") or "UTC", all_clear=AllClear(**clear) if clear else None)


def _renewal(row: Row) -> Renewal:
    item = PlannedRenewal(instance(row), terms(str(row.get("terms") or "")), str(row.get("client_token") or ""),
                          price(row))
    return Renewal(item, row.get("order_id"))


def _funds(figures: Row | None) -> FundsForecast | None:
    if not figures:
        return None
    listed = list(figures.get("unknown_instances") or ())
    unknown = tuple(listed) + (UNLISTED,) * (int(figures.get("unknown_prices") or 0) - len(listed))
    balance = Balance(figures["cash"], figures["credit"], 0.0, figures.get("currency") or "")
    return FundsForecast(figures["horizon_days"], balance, figures["renewals"], figures["renewal_count"],
                         figures["deductions"], figures["deduction_count"], unknown)


def _plan(data: Row, renewed: tuple[Renewal, ...]) -> RenewalPlan:
    over = data.get("budget_exceeded")
    budget_cost = cost(over, over.get("unknown_instances") or ()) if over else None
    cap = data.get("cap_exceeded")
    planned_cost = budget_cost or cost(data.get("estimated_cost"))
    if "selected" in data:  # a stopped plan: the candidates, with the ClientToken each would have had
        items = tuple(planned(instance(row), terms(str(row.get("terms") or "")), price(row))
                      for row in data["selected"])
    else:
        items = tuple(r.planned for r in renewed)
    return RenewalPlan(items, cost=planned_cost,
                       cap=CapExceeded(cap["candidates"], cap["max_instances"]) if cap else None,
                       budget=BudgetExceeded(budget_cost, over["max_cost"]) if over and budget_cost else None,
                       funds=_funds(data.get("funds") or data.get("funds_short")))


def _ledger(summary: Row | None) -> LedgerSummary | None:
    if summary is None:
        return None
    counts = {key: value for key, value in summary.items() if key not in ("alerts", "forced", "leftover_intents")}
    leftover = tuple(LeftoverIntents(row["region"], tuple(row["instances"]), row["code"])
                     for row in summary.get("leftover_intents") or ())
    return LedgerSummary(counts, tuple(LedgerAlert(**a) for a in summary.get("alerts") or ()),
                         tuple(summary.get("forced") or ()), leftover)


def _approval(row: Row | None) -> ApprovalOutcome | None:
    return None if row is None else ApprovalOutcome.from_dict(row)


def _renew(data: Row, meta: dict[str, Any]) -> RenewResult:
    renewed = tuple(map(_renewal, data.get("renewed") or ()))
    period = data.get("period") or {}
    return RenewResult(**meta, plan=_plan(data, renewed), renewed=renewed,
                       skipped=tuple(map(skip, data.get("skipped") or ())),
                       failed=tuple(map(failure, data.get("failed") or ())),
                       period=period.get("period", 1), period_unit=period.get("unit", "Month"),
                       awaiting_approval="approval" in data, approval=_approval(data.get("approval")),
                       failed_deductions=int(data.get("failed_deductions") or 0), ledger=_ledger(data.get("ledger")))


def _drift(row: Row) -> Drift:
    attribute = AutoRenewAttribute(str(row.get("instance_id") or ""), bool(row.get("auto_renew_enabled")),
                                   row.get("duration"), "Month", row.get("renewal_status"))
    return Drift(str(row.get("region") or ""), attribute)


def _audit(data: Row, meta: dict[str, Any]) -> AuditResult:
    expected = data.get("expected") or {"auto_renew": None}
    return AuditResult(**meta, drift=tuple(map(_drift, data.get("drift") or ())),
                       fixed=tuple(Fix(str(r.get("instance_id") or ""), str(r.get("region") or ""))
                                   for r in data.get("fixed") or ()),
                       skipped=tuple(map(skip, data.get("skipped") or ())),
                       failed=tuple(map(failure, data.get("failed") or ())),
                       expected_auto_renew=expected.get("auto_renew"),
                       duration=expected.get("duration", 1), fix=bool(data.get("fix")))


_BY_JOB: dict[str, Callable[[Row, dict[str, Any]], JobResult]] = {
    "scan-expiring": _scan, "renew-batch": _renew, "audit-autorenew": _audit}


# --- many accounts ---------------------------------------------------------------------------------------


def _accounts(data: Row) -> AccountsResult:
    """Each account's part from its rows (``account_id``) and its line under ``accounts`` (its limits)."""
    meta = _meta(data)
    job = meta["job"]
    clear = data.get("all_clear")
    parts: list[JobResult] = []
    for entry in data["accounts"]:
        account = entry["account_id"]
        own = {key: [{k: v for k, v in row.items() if k != "account_id"} for row in rows
                     if isinstance(row, Mapping) and row.get("account_id") == account]
               for key, rows in data.items() if key in ROW_LISTS}
        if not entry.get("ok"):
            parts.append(AccountFailed(job=job, dry_run=meta["dry_run"], regions=(), account_id=account,
                                       errors=tuple(map(region_error, own.get("errors", ())))))
            continue
        first = not any(not isinstance(p, AccountFailed) for p in parts)
        part: dict[str, Any] = {**data, **own, **{k: v for k, v in entry.items() if k in LIMIT_KEYS}}
        for key in ("selected", "ledger", "approval", "funds", "all_clear", *LIMIT_KEYS):
            if key not in entry:
                part.pop(key, None)
        if clear:  # the run's counts on its first account: the merge adds them up again
            part["all_clear"] = {**clear, "prepaid_instances": clear["prepaid_instances"] if first else 0}
        part.update(api_calls=data.get("api_calls") if first else {}, account_id=account)
        parts.append(_BY_JOB.get(job, _generic)(part, {**_meta(part), "request_id": None, "alerts": None}))
    meta["errors"] = ()
    meta["api_calls"] = {}
    return AccountsResult(**meta, parts=tuple(parts))

