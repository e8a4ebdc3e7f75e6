"""What every handler does: event → settings → credentials → job → alert → result.

Handlers stay one line (``return run_job("renew-batch", event, context)``). Everything that could
fail because of input or configuration happens before the first API call; everything after it is
reported in the result instead of raised, so Function Compute never replays a half-done batch
because of one instance (reference trap 4).
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Mapping
from typing import Any

from .credentials import Credentials, require_sts, resolve_base_credentials
from .gateway.client import Caller, CallStats, ClientFactory
from .gateway.ecs import EcsGateway
from .gateway.ratelimit import RateLimiter
from .gateway.retry import RetryPolicy
from .jobs.base import JobContext
from .logs import JsonLogger, get_logger, mask_key_id, redact_value
from .settings import Settings, Throughput, build_settings, throughput_settings

JOB_MODULES = {
    "scan-expiring": "ecs_renewal.jobs.scan",
    "renew-batch": "ecs_renewal.jobs.renew",
    "audit-autorenew": "ecs_renewal.jobs.audit",
}
# Stop starting retries this long before the function's timeout, to leave time to report and alert.
TIMEOUT_MARGIN_SECONDS = 15.0
DEFAULT_TIMEOUT_SECONDS = 900.0


def request_id_of(context: Any) -> str | None:
    return getattr(context, "request_id", None) or getattr(context, "requestId", None)


def _function_timeout(context: Any, environ: Mapping[str, str]) -> float:
    timeout = getattr(getattr(context, "function", None), "timeout", None)
    try:
        return float(timeout or environ.get("FUNCTION_TIMEOUT_SECONDS") or DEFAULT_TIMEOUT_SECONDS)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT_SECONDS


def _read_timeout(environ: Mapping[str, str]) -> int | None:
    value = environ.get("ECS_READ_TIMEOUT", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def build_caller(
    settings: Settings, base: Credentials, environ: Mapping[str, str], log: JsonLogger,
    *, request_id: str | None, deadline: float, refresh_base: Any = None, throughput: Throughput | None = None,
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
    if settings.assume_role_arn:
        from .gateway import sts  # only when needed: STS adds to the cold start

        def assume(signer: Credentials = base) -> Credentials:
            # Sign the AssumeRole call with the invocation's own credentials, never with an assumed set.
            role_factory = ClientFactory(signer, sts_endpoint=settings.sts_endpoint)
            role_caller = Caller(role_factory, retry=caller.retry, stats=caller.stats, logger=log)
            name = sts.session_name(settings.job, request_id)
            return sts.assume_role(role_caller, settings.assume_role_arn or "", session=name)

        factory.replace_credentials(assume())
        # After a long run the invocation's own credentials may have expired too: read them again first.
        caller.refresh_credentials = (lambda: assume(refresh_base())) if refresh_base else assume
        log.info("role_assumed", role_arn=settings.assume_role_arn,
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
    environ = os.environ if environ is None else environ
    request_id = request_id_of(context)
    log = get_logger(job=job, request_id=request_id)

    # Everything that depends only on input is checked before the first API call.
    settings = build_settings(job, event, environ)
    throughput = throughput_settings(environ)
    base = resolve_base_credentials(context, environ)
    require_sts(base, assume_role_arn=settings.assume_role_arn)
    if settings.ignored_keys:
        log.warning("event_keys_ignored", keys=list(settings.ignored_keys),
                    why=f"these keys do not apply to {job}")
    log.info("job_started", regions=list(settings.regions), dry_run=settings.dry_run,
             credentials=base.source, access_key_id=mask_key_id(base.access_key_id))

    deadline = started + max(5.0, _function_timeout(context, environ) - TIMEOUT_MARGIN_SECONDS)
    caller = build_caller(
        settings, base, environ, log, request_id=request_id, deadline=deadline,
        # An expired token is answered by reading the invocation's credentials again (FC refreshes them).
        refresh_base=lambda: resolve_base_credentials(context, environ), throughput=throughput,
    )
    ctx = JobContext(settings=settings, gateway=EcsGateway(caller), log=log, stats=caller.stats,
                     throughput=throughput)
    result = importlib.import_module(JOB_MODULES[job]).run(ctx)
    result["request_id"] = request_id
    result = redact_value(result)  # error messages quote servers and URLs: no secret leaves in a result

    _alert(result, environ, log)
    log.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000), **summary(result))
    return result


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
