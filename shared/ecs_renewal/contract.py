"""The boundary: a typed result becomes the contract's dict here, and only here (``../shared/CONTRACT.md``).

Keys and values are exactly what the README's result tables say; a new field is added here once and
every reader of the dict (a script reading the JSON, the CLI's table) sees it. Secrets never leave:
the dict is redacted as it is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .logs import redact_value
from .records import sort_key
from .results import (
    AccountFailed,
    AccountsResult,
    AuditResult,
    CoordinatorResult,
    JobResult,
    RenewResult,
    ScanResult,
)

# Lists whose rows get the account id when a run covers several accounts.
ROW_LISTS = ("expiring", "renewed", "skipped", "failed", "drift", "fixed", "errors")
_STOPS = ("cap_exceeded", "budget_exceeded", "estimated_cost")


def to_contract(result: JobResult) -> dict[str, Any]:
    """The result as the function returns it: the job's own keys between the common head and tail."""
    head: dict[str, Any] = {"job": result.job, "dry_run": result.dry_run, "regions": list(result.regions)}
    if isinstance(result, AccountFailed):
        head = {"job": result.job, "account_id": result.account_id}
    elif result.window is not None:
        head["window"] = result.window.as_dict()
    body = _BODIES[type(result)](result)
    tail: dict[str, Any] = {}
    if result.account_id is not None and not isinstance(result, (AccountFailed, AccountsResult)):
        tail["account_id"] = result.account_id
    if result.shard:
        tail["shard"] = dict(result.shard)
    if not isinstance(result, AccountFailed):
        tail["request_id"] = result.request_id
    if result.alerts is not None:
        tail["alerts"] = result.alerts.as_dict()
    return redact_value({**head, **body, **tail})


def _errors(result: JobResult) -> list[dict[str, Any]]:
    return [error.as_row() for error in result.errors]


def _scan(result: ScanResult) -> dict[str, Any]:
    return {"errors": _errors(result), "expiring": [row.as_row() for row in result.expiring],
            "count": len(result.expiring), "estimated_cost": result.estimated_cost.as_dict(),
            "time_zone": result.time_zone, "api_calls": dict(result.api_calls)}


def _renew(result: RenewResult) -> dict[str, Any]:
    body: dict[str, Any] = {
        "errors": _errors(result),
        "renewed": [r.as_row() for r in result.renewed],
        "skipped": [s.as_row() for s in result.skipped],
        "failed": [f.as_row() for f in result.failed],
        "period": {"period": result.period, "unit": result.period_unit},
    }
    plan = result.plan
    if plan.cap:
        body["cap_exceeded"] = plan.cap.as_dict()
    if plan.cost is not None:
        body["estimated_cost"] = plan.cost.as_dict()
    if plan.budget:
        body["budget_exceeded"] = plan.budget.as_dict()
    if plan.stopped:  # what a person must decide about: the instances the limit held back
        body["selected"] = [item.candidate_row() for item in plan.items]
    body["api_calls"] = dict(result.api_calls)
    return body


def _audit(result: AuditResult) -> dict[str, Any]:
    return {"errors": _errors(result), "drift": [d.as_row() for d in result.drift],
            "fixed": [f.as_row() for f in result.fixed], "skipped": [s.as_row() for s in result.skipped],
            "failed": [f.as_row() for f in result.failed],
            "expected": {"auto_renew": result.expected_auto_renew, "duration": result.duration},
            "fix": result.fix, "api_calls": dict(result.api_calls)}


def _account_failed(result: AccountFailed) -> dict[str, Any]:
    return {"errors": _errors(result)}


def _coordinator(result: CoordinatorResult) -> dict[str, Any]:
    return {"coordinator": True, "shards": [dict(shard) for shard in result.shards], "errors": _errors(result)}


def _accounts(result: AccountsResult) -> dict[str, Any]:
    """Several accounts as one: every row says its account; lists sorted by account, region, id."""
    parts = [to_contract(part) for part in result.parts]
    merged: dict[str, Any] = {}
    for key in ROW_LISTS:
        rows = [{**row, "account_id": part["account_id"]} for part in parts for row in part.get(key, [])]
        if rows or key == "errors" or any(key in part for part in parts):
            merged[key] = sorted(rows, key=lambda row: (row["account_id"], *sort_key(row)))
    if "expiring" in merged:
        merged["count"] = len(merged["expiring"])
    merged["accounts"] = [_account_summary(part) for part in parts]
    # The accounts' limits are the run's: a run any account's cap or budget stopped is a stopped run.
    if result.cap:
        merged["cap_exceeded"] = {**result.cap.as_dict(), "accounts": result.stopped_accounts()}
    if result.budget:
        merged["budget_exceeded"] = {**result.budget.as_dict(), "accounts": result.stopped_accounts()}
    if result.cost is not None:
        merged["estimated_cost"] = result.cost.as_dict()
    calls: dict[str, int] = {}
    for part in result.parts:
        for action, count in part.api_calls.items():
            calls[action] = calls.get(action, 0) + count
    merged["api_calls"] = dict(sorted(calls.items()))
    return merged


def _account_summary(part: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"account_id": part["account_id"], "ok": "api_calls" in part}
    for key in ("count", "renewed", "skipped", "failed", "drift", "fixed", "errors"):
        if key in part:
            entry[key] = part[key] if isinstance(part[key], int) else len(part[key])
    entry.update({key: part[key] for key in _STOPS if key in part})
    return entry


_BODIES: dict[type, Callable[[Any], dict[str, Any]]] = {
    ScanResult: _scan,
    RenewResult: _renew,
    AuditResult: _audit,
    AccountFailed: _account_failed,
    AccountsResult: _accounts,
    CoordinatorResult: _coordinator,
}


def run_record(result: JobResult) -> dict[str, Any]:
    """The run record (``job_finished``): counts, order ids, limits and calls — what an operator reconciles
    with billing. Read from the typed result, so a multi-account run records its accounts' caps too."""
    line: dict[str, Any] = {"dry_run": result.dry_run, "errors": _error_count(result), **result.counts()}
    orders = result.order_ids()
    if orders:
        line["order_ids"] = orders
    if result.cap:
        line["cap_exceeded"] = result.cap.as_dict()
    if result.budget:
        line["budget_exceeded"] = result.budget.as_dict()
    if result.cost is not None:
        line["estimated_cost"] = result.cost.as_dict()
    line["api_calls"] = _calls(result)
    return line


def _error_count(result: JobResult) -> int:
    if isinstance(result, AccountsResult):
        return len(result.errors) + sum(len(part.errors) for part in result.parts)
    return len(result.errors)


def _calls(result: JobResult) -> dict[str, int]:
    if isinstance(result, AccountsResult):
        return _accounts(result)["api_calls"]
    return dict(result.api_calls)
