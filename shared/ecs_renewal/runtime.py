"""What every handler does: event → settings → credentials → job → alert → result.

Handlers stay one line (``return run_job("renew-batch", event, context)``). Everything that could
fail because of input or configuration happens before the first API call; everything after it is
reported in the result instead of raised, so Function Compute never replays a half-done batch
because of one instance (reference trap 4).
"""

from __future__ import annotations

import gc
import importlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .accounts import Account, load_accounts, narrow
from .credentials import Credentials, require_sts, resolve_base_credentials
from .errors import ApiError, CredentialsError, InvalidSettingError
from .fanout import dispatch, needs_fan_out, plan_shards
from .gateway.client import Caller, CallStats, ClientFactory
from .gateway.ecs import EcsGateway
from .gateway.ratelimit import RateLimiter
from .gateway.retry import RetryPolicy
from .jobs.base import JobContext
from .logs import JsonLogger, get_logger, mask_key_id, redact_value
from .settings import Settings, Throughput, build_settings, environment_value, parse_event, throughput_settings

# The collector, tuned once per process: a run parses thousands of ~120 KB pages, and with the default
# thresholds it walks the pages still in flight dozens of times (gen-1 passes of up to 50 ms, ~15 % of an
# audit's CPU). What the imports built lives as long as the process: frozen, it is never walked again;
# and the young generation may grow larger before a pass (job data has no reference cycles to find early).
gc.freeze()
gc.set_threshold(50_000, 20, 20)

JOB_MODULES = {
    "scan-expiring": "ecs_renewal.jobs.scan",
    "renew-batch": "ecs_renewal.jobs.renew",
    "audit-autorenew": "ecs_renewal.jobs.audit",
}
# Stop starting retries this long before the function's timeout, to leave time to report and alert.
TIMEOUT_MARGIN_SECONDS = 15.0


def request_id_of(context: Any) -> str | None:
    return getattr(context, "request_id", None) or getattr(context, "requestId", None)


def _function_timeout(context: Any, environ: Mapping[str, str]) -> float:
    # Function Compute's context says (explicit), else FUNCTION_TIMEOUT_SECONDS, else 900 s.
    explicit = getattr(getattr(context, "function", None), "timeout", None) or None
    return environment_value("FUNCTION_TIMEOUT_SECONDS", environ, explicit=explicit)


def _shard_size(environ: Mapping[str, str]) -> int:
    """SHARD_SIZE: account-regions per invocation before the run fans out (0 = never)."""
    return environment_value("SHARD_SIZE", environ)


def _read_timeout(environ: Mapping[str, str]) -> int | None:
    return environment_value("ECS_READ_TIMEOUT", environ)


def build_caller(
    settings: Settings, base: Credentials, environ: Mapping[str, str], log: JsonLogger,
    *, request_id: str | None, deadline: float, refresh_base: Any = None, throughput: Throughput | None = None,
    role_arn: str | None = None, assumed: Credentials | None = None,
) -> Caller:
    """The gateway's call path, with role credentials when ASSUME_ROLE_ARN is set, paced at ECS_MAX_QPS."""
    throughput = throughput or throughput_settings(environ)
    factory = ClientFactory(
        base, ecs_endpoint=settings.ecs_endpoint, sts_endpoint=settings.sts_endpoint,
        read_timeout=_read_timeout(environ),
        # A region has at most RENEW_CONCURRENCY calls in flight: keep that many connections open.
        pool_size=max(16, throughput.renew_concurrency),
    )
    caller = Caller(factory, retry=RetryPolicy(deadline=deadline), stats=CallStats(), logger=log,
                    limiter=RateLimiter(throughput.qps_for))
    caller.refresh_credentials = refresh_base
    role_arn = role_arn or settings.assume_role_arn
    if role_arn:
        from .gateway import sts  # only when needed: STS adds to the cold start

        def assume(signer: Credentials = base) -> Credentials:
            # Sign the AssumeRole call with the invocation's own credentials, never with an assumed set.
            role_factory = ClientFactory(signer, sts_endpoint=settings.sts_endpoint)
            role_caller = Caller(role_factory, retry=caller.retry, stats=caller.stats, logger=log)
            name = sts.session_name(settings.job, request_id)
            # The shortest session that covers the run: the function's timeout, within STS's 900..3600 s.
            duration = int(min(3600, max(900, deadline - time.monotonic() + TIMEOUT_MARGIN_SECONDS)))
            return sts.assume_role(role_caller, role_arn, session=name, duration_seconds=duration)

        factory.replace_credentials(assumed or assume())
        # After a long run the invocation's own credentials may have expired too: read them again first.
        caller.refresh_credentials = (lambda: assume(refresh_base())) if refresh_base else assume
        log.info("role_assumed", role_arn=role_arn,
                 access_key_id=mask_key_id(factory.credentials.access_key_id))
    return caller


def run_job(
    job: str,
    event: Any,
    context: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    started = time.monotonic()
    # A snapshot: the run sees one consistent configuration even if the process environment changes.
    environ = dict(os.environ) if environ is None else environ
    request_id = request_id_of(context)
    log = get_logger(job=job, request_id=request_id)

    # Everything that depends only on input is checked before the first API call.
    settings = build_settings(job, event, environ)
    accounts = narrow(load_accounts(environ), settings.accounts)
    if accounts and settings.assume_role_arn:
        raise InvalidSettingError("ACCOUNTS", "set ACCOUNTS or ASSUME_ROLE_ARN, not both: with ACCOUNTS each "
                                  "account's own role is assumed with the function's credentials")
    shard_size = _shard_size(environ)
    throughput = throughput_settings(environ)
    base = resolve_base_credentials(context, environ)
    require_sts(base, assume_role_arn=settings.assume_role_arn or (accounts[0].role_arn if accounts else None))
    if settings.ignored_keys:
        log.warning("event_keys_ignored", keys=list(settings.ignored_keys),
                    why=f"these keys do not apply to {job}")
    log.info("job_started", regions=list(settings.regions), dry_run=settings.dry_run,
             credentials=base.source, access_key_id=mask_key_id(base.access_key_id))

    deadline = started + max(5.0, _function_timeout(context, environ) - TIMEOUT_MARGIN_SECONDS)
    run = _Run(job, settings, throughput, base, context, environ, log, request_id, deadline)
    if settings.shard is None and needs_fan_out(accounts, settings.regions, shard_size):
        result = _coordinate(run, event, accounts, shard_size)
    elif accounts:
        result = _run_accounts(run, accounts)
    else:
        result = _run_one(run)
    log.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000), **summary(result))
    return result


@dataclass
class _Run:
    """Everything one invocation knows before its first API call."""

    job: str
    settings: Settings
    throughput: Throughput
    base: Credentials
    context: Any
    environ: Mapping[str, str]
    log: JsonLogger
    request_id: str | None
    deadline: float


def _run_one(run: _Run, account: Account | None = None, assumed: Credentials | None = None) -> dict[str, Any]:
    """The job in one account (the function's own, or a target account through its role), then its alert."""
    log = run.log.bind(account_id=account.account_id) if account else run.log
    caller = build_caller(
        run.settings, run.base, run.environ, log, request_id=run.request_id, deadline=run.deadline,
        # An expired token is answered by reading the invocation's credentials again (FC refreshes them).
        refresh_base=lambda: resolve_base_credentials(run.context, run.environ), throughput=run.throughput,
        role_arn=account.role_arn if account else None, assumed=assumed,
    )
    ctx = JobContext(settings=run.settings, gateway=EcsGateway(caller), log=log, stats=caller.stats,
                     throughput=run.throughput)
    result = importlib.import_module(JOB_MODULES[run.job]).run(ctx)
    if account:
        result["account_id"] = account.account_id
    if run.settings.shard:
        result["shard"] = run.settings.shard
    result["request_id"] = run.request_id
    result = redact_value(result)  # error messages quote servers and URLs: no secret leaves in a result
    _alert(result, run.environ, log)
    return result


def _run_accounts(run: _Run, accounts: tuple[Account, ...]) -> dict[str, Any]:
    """Each account in turn with its own role's credentials; one account's failure is reported, not fatal."""
    parts: list[dict[str, Any]] = []
    for account in accounts:
        try:
            parts.append(_run_one(run, account))
        except ApiError as error:  # AssumeRole refused (role missing, trust policy, AccessDenied)
            run.log.error("account_failed", account_id=account.account_id, code=error.code, message=error.message)
            parts.append({"job": run.job, "account_id": account.account_id, "errors": [{
                "account_id": account.account_id, "region": None, "code": error.code,
                "message": f"cannot assume {account.role_arn}: {error.message}"}]})
    return redact_value(merge_account_results(run.job, run.settings, parts, run.request_id))


def _coordinate(run: _Run, event: Any, accounts: tuple[Account, ...] | None, shard_size: int) -> dict[str, Any]:
    """Too much for one invocation: invoke this same function once per shard, asynchronously."""
    from .gateway.fc import AsyncInvoker

    if not run.base.is_sts:  # raised before any call: nothing was dispatched
        raise CredentialsError("fanning out invokes Function Compute with the function's own credentials, which "
                               "must be STS credentials (the function's role), not a static AccessKey")

    function = (run.environ.get("FC_FUNCTION_NAME") or getattr(getattr(run.context, "function", None), "name", None)
                or run.job)
    shards = plan_shards(accounts, run.settings.regions, shard_size)
    invoker = AsyncInvoker(run.base, run.environ)
    dispatched = dispatch(function, parse_event(event), shards, run.request_id or "local", invoker)
    run.log.info("fanned_out", function=function, shards=len(shards),
                 failed=sum(1 for d in dispatched if d["status"] != "dispatched"))
    result: dict[str, Any] = {
        "job": run.job, "dry_run": run.settings.dry_run, "regions": list(run.settings.regions),
        "coordinator": True, "shards": dispatched,
        "errors": [{"account_id": d["account_id"], "region": None, "code": d["code"],
                    "message": f"shard {d['index']}/{d['of']} not dispatched: {d['message']}"}
                   for d in dispatched if d["status"] != "dispatched"],
        "request_id": run.request_id,
    }
    result = redact_value(result)
    _alert(result, run.environ, run.log)
    return result


# Lists whose rows get the account id when a run covers several accounts.
_ROW_LISTS = ("expiring", "renewed", "skipped", "failed", "drift", "fixed", "errors")


def merge_account_results(
    job: str, settings: Settings, parts: list[dict[str, Any]], request_id: str | None
) -> dict[str, Any]:
    """One result for several accounts: every row says its account; lists sorted by account, region, id."""
    merged: dict[str, Any] = {"job": job, "dry_run": settings.dry_run, "regions": list(settings.regions)}
    if job != "audit-autorenew":
        merged["window"] = settings.window.as_dict()
    calls: dict[str, int] = {}
    for part in parts:
        for key in _ROW_LISTS:
            if key in part:
                merged.setdefault(key, []).extend({**row, "account_id": part["account_id"]} for row in part[key])
        for action, count in (part.get("api_calls") or {}).items():
            calls[action] = calls.get(action, 0) + count
    merged.setdefault("errors", [])
    for key in _ROW_LISTS:
        if key in merged:
            merged[key].sort(key=lambda row: (row["account_id"], row.get("region") or "", row.get("instance_id", "")))
    if "expiring" in merged:
        merged["count"] = len(merged["expiring"])
    merged["accounts"] = [_account_summary(part) for part in parts]
    if settings.shard:
        merged["shard"] = settings.shard
    merged["api_calls"] = dict(sorted(calls.items()))
    merged["request_id"] = request_id
    return merged


def _account_summary(part: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"account_id": part["account_id"], "ok": "api_calls" in part}
    for key in ("count", "renewed", "skipped", "failed", "drift", "fixed", "errors"):
        if key in part:
            entry[key] = part[key] if isinstance(part[key], int) else len(part[key])
    for key in ("cap_exceeded", "budget_exceeded", "estimated_cost"):
        if key in part:
            entry[key] = part[key]
    return entry


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """The run record: counts, order ids and calls — what an operator reconciles with billing."""
    line: dict[str, Any] = {"dry_run": result.get("dry_run"), "errors": len(result.get("errors", []))}
    for key in ("count", "renewed", "skipped", "failed", "drift", "fixed"):
        if key in result:
            value = result[key]
            line[key] = value if isinstance(value, int) else len(value)
    orders = [r["order_id"] for r in result.get("renewed", []) if r.get("order_id")]
    if orders:
        line["order_ids"] = orders
    for key in ("cap_exceeded", "budget_exceeded", "estimated_cost"):
        if key in result:
            line[key] = result[key]
    line["api_calls"] = result.get("api_calls", {})
    return line


def _unreported_reminders(result: dict[str, Any], environ: Mapping[str, str]) -> tuple[dict[str, Any], Any, Any]:
    """For a scan: only the (instance, tier) reminders not already sent today — a replay or a manual
    re-run does not repeat the digest. Other jobs report every run as it is."""
    if result.get("job") != "scan-expiring" or not result.get("expiring"):
        return result, None, None
    from .notify.ledger import NotificationLedger, reminder_key

    ledger = NotificationLedger(environ.get("NOTIFY_STATE_DIR") or None)
    day = (result.get("window") or {}).get("start", "")[:10]
    keys = {row["instance_id"]: reminder_key(row["instance_id"], row.get("tier"), day) for row in result["expiring"]}
    fresh = ledger.unseen(keys.values())
    rows = [row for row in result["expiring"] if keys[row["instance_id"]] in fresh]
    return {**result, "expiring": rows, "count": len(rows)}, fresh, ledger


def _alert(result: dict[str, Any], environ: Mapping[str, str], log: JsonLogger) -> None:
    """Send the run's DingTalk messages. Never fails the job: the renewals already happened."""
    webhook = environ.get("DINGTALK_WEBHOOK", "").strip()
    if not webhook:
        return
    try:
        from .notify.dingtalk import DingTalkNotifier
        from .notify.messages import messages_for_result

        # shared_budget: runs in one warm instance (a replay, the next function) share the 20/minute limit.
        notifier = DingTalkNotifier(webhook, environ.get("DINGTALK_SECRET", "").strip() or None, logger=log,
                                    shared_budget=True)
        to_report, reminders, ledger = _unreported_reminders(result, environ)
        messages = messages_for_result(to_report)
        sent = notifier.send_all(messages)
        result["alerts"] = {"messages": len(messages), "sent": sent}
        if reminders is not None:
            result["alerts"]["already_reported"] = len(result.get("expiring", [])) - len(to_report["expiring"])
            if sent == len(messages):
                ledger.remember(reminders)
    except Exception as error:  # noqa: BLE001 - an alert problem is logged, never raised
        log.error("alert_failed", error=type(error).__name__, message=str(error)[:200])
        result["alerts"] = {"messages": 0, "sent": 0, "error": type(error).__name__}
