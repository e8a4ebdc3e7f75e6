"""Results of the execution modes that cover more than one account or region set in one invocation.

- :class:`AccountsResult`: several accounts' results as one. Every row says its account; the accounts'
  caps and budgets are the run's (a run any account's limit stopped is a stopped run, exit 1);
- :class:`AccountFailed`: an account whose role could not be assumed;
- :class:`CoordinatorResult`: a fan-out, with the shards it dispatched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..plan import BudgetExceeded, CapExceeded
from ..records import CostEstimate, sort_key
from . import JobResult

# Lists whose rows get the account id when a run covers several accounts.
ROW_LISTS = ("expiring", "renewed", "skipped", "failed", "drift", "fixed", "errors")
LIMIT_KEYS = ("cap_exceeded", "budget_exceeded", "funds_short", "estimated_cost", "failed_deductions")


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class AccountFailed(JobResult):
    """A target account whose role could not be assumed: nothing in it was read."""

    def head(self) -> dict[str, Any]:
        return {"job": self.job, "account_id": self.account_id}

    def tail(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class AccountsResult(JobResult):
    parts: tuple[JobResult, ...] = ()

    def body(self) -> dict[str, Any]:
        """Every row says its account; lists sorted by account, region, id; the limits are the run's."""
        parts = [part.fields() for part in self.parts]  # redacted with the whole, in contract.to_contract
        merged: dict[str, Any] = {}
        for key in ROW_LISTS:
            if key == "errors" or any(key in part for part in parts):
                rows = [{**row, "account_id": part["account_id"]} for part in parts for row in part.get(key, [])]
                merged[key] = sorted(rows, key=lambda row: (row["account_id"], *sort_key(row)))
        if "expiring" in merged:
            merged["count"] = len(merged["expiring"])
            merged["failed_deductions"] = sum(int(part.get("failed_deductions") or 0) for part in parts)
            if self.all_clear is not None:
                merged["all_clear"] = self.all_clear.as_dict()
        merged["accounts"] = [_account_summary(part) for part in parts]
        stopped = [part.account_id for part in self.parts if part.cap or part.budget]
        if self.cap:
            merged["cap_exceeded"] = {**self.cap.as_dict(), "accounts": stopped}
        if self.budget:
            merged["budget_exceeded"] = {**self.budget.as_dict(), "accounts": stopped}
        if self.cost is not None:
            merged["estimated_cost"] = self.cost.as_dict()
        short = [part["funds_short"] for part in parts if part.get("funds_short")]
        if short:  # each account pays from its own balance: the accounts that cannot, as they are
            merged["funds_short"] = {"accounts": [p.account_id for p in self.parts if p.funds_short], "each": short}
        merged["api_calls"] = self.calls()
        return merged

    def as_one(self) -> JobResult:
        """The accounts' rows together in one result of the job's own type, ordered as the contract lists
        them (account, region, id); the limits, costs and calls are the run's."""
        errors = _by_account([*((part.account_id, e) for part in self.parts for e in part.errors),
                              *((None, e) for e in self.errors)])
        meta = {"job": self.job, "dry_run": self.dry_run, "regions": self.regions, "window": self.window,
                "errors": errors, "api_calls": self.calls(), "account_id": None, "shard": self.shard,
                "request_id": self.request_id, "alerts": self.alerts}
        done = [part for part in self.parts if not isinstance(part, AccountFailed)]
        if not done:
            return JobResult(**meta)
        first = done[0]
        for name in ROW_LISTS[:-1]:  # every list but the errors, which are the meta's
            if hasattr(first, name):
                meta[name] = _by_account((part.account_id, row) for part in done for row in getattr(part, name))
        if hasattr(first, "plan"):  # renew-batch: the run's limits, no one account's candidates or ledger
            from ..plan import RenewalPlan

            meta.update(plan=RenewalPlan((), cost=self.cost, cap=self.cap, budget=self.budget, funds=self.funds_short),
                        failed_deductions=sum(getattr(part, "failed_deductions", 0) for part in done),
                        ledger=None, approval=None)
        if hasattr(first, "estimated_cost"):  # scan-expiring
            meta.update(estimated_cost=self.cost, all_clear=self.all_clear)
        return replace(first, **meta)

    @property
    def cap(self) -> CapExceeded | None:
        caps = [part.cap for part in self.parts if part.cap]
        return CapExceeded(sum(c.candidates for c in caps), max(c.max_instances for c in caps)) if caps else None

    @property
    def budget(self) -> BudgetExceeded | None:
        budgets = [part.budget for part in self.parts if part.budget]
        if not budgets:
            return None
        return BudgetExceeded(CostEstimate.combined([b.cost for b in budgets]), max(b.max_cost for b in budgets))

    @property
    def funds_short(self) -> Any:  # the first account's that cannot pay (the run record says one is short)
        return next((part.funds_short for part in self.parts if part.funds_short), None)

    @property
    def all_clear(self) -> Any:  # AllClear | None: a scan's quiet night across every account, as one line
        clear = [getattr(part, "all_clear", None) for part in self.parts]
        if not clear or any(c is None for c in clear) or self.errors:
            return None
        return clear[0]._replace(prepaid_instances=sum(c.prepaid_instances for c in clear), accounts=len(clear))

    @property
    def cost(self) -> CostEstimate | None:
        costs = [part.cost for part in self.parts if part.cost is not None]
        return CostEstimate.combined(costs) if costs else None

    def counts(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for part in self.parts:
            for key, count in part.counts().items():
                total[key] = total.get(key, 0) + count
        return total

    def error_count(self) -> int:
        return len(self.errors) + sum(part.error_count() for part in self.parts)

    def calls(self) -> dict[str, int]:
        calls: dict[str, int] = {}
        for part in self.parts:
            for action, count in part.api_calls.items():
                calls[action] = calls.get(action, 0) + count
        return dict(sorted(calls.items()))

    def order_ids(self) -> list[str]:
        return [order for part in self.parts for order in part.order_ids()]


def _by_account(rows: Iterable[tuple[str | None, Any]]) -> tuple[Any, ...]:
    """Records (each with its account) sorted as the contract's merged lists: account, region, id."""
    return tuple(row for _, row in sorted(rows, key=lambda pair: (pair[0] or "", *sort_key(pair[1].as_row()))))


def _account_summary(part: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"account_id": part["account_id"], "ok": "api_calls" in part}
    for key in ("count", "renewed", "skipped", "failed", "drift", "fixed", "errors"):
        if key in part:
            entry[key] = part[key] if isinstance(part[key], int) else len(part[key])
    entry.update({key: part[key] for key in LIMIT_KEYS if key in part})
    return entry


@dataclass(frozen=True, kw_only=True, eq=False)  # compared by identity: no __eq__ to build
class CoordinatorResult(JobResult):
    """Too much for one invocation: the shards this one dispatched (rows as :func:`fanout.dispatch` makes them)."""

    shards: tuple[Mapping[str, Any], ...] = ()

    def body(self) -> dict[str, Any]:
        return {"coordinator": True, "shards": [dict(shard) for shard in self.shards], "errors": self.error_rows()}
