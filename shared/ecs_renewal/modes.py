"""How a run is carried out, one entry each: one account, several accounts in turn, or a fan-out.

- :func:`run_single`: the job in one account (the function's own, or a target account through its role),
  then its alert;
- :func:`run_per_account`: each configured account in turn, each with its own role; one account's
  failure is reported, not fatal; the parts become one :class:`~.results.AccountsResult`;
- :func:`coordinate`: too much for one invocation: this same function is invoked once per shard,
  asynchronously, and this run only reports what it dispatched.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from .callpath import CallPath
from .credentials import Credentials
from .errors import ApiError, CredentialsError
from .fanout import dispatch, plan_shards
from .gateway.ecs import EcsGateway
from .jobs.base import JobContext
from .logs import JsonLogger
from .records import RegionError
from .results import JobResult

if TYPE_CHECKING:  # annotations only; accounts and results.runs load when a run needs them
    from .accounts import Account
    from .results.runs import AccountsResult, CoordinatorResult
    from .settings import Settings

R = TypeVar("R", bound=JobResult)

JOB_MODULES = {
    "scan-expiring": "ecs_renewal.jobs.scan",
    "renew-batch": "ecs_renewal.jobs.renew",
    "audit-autorenew": "ecs_renewal.jobs.audit",
}


class Invocation(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """Everything one invocation knows before its first API call."""

    settings: Settings
    calls: CallPath
    base: Credentials
    context: Any
    environ: Mapping[str, str]
    log: JsonLogger
    request_id: str | None

    @property
    def job(self) -> str:
        return self.settings.job

    def alerted(self, result: R, log: JsonLogger | None = None, *, all_clear: bool = True) -> R:
        """The result with what its alerts came to; untouched when no DingTalk robot is configured.
        ``all_clear=False``: one account of several — the run sends one all-clear line for them all."""
        if not self.environ.get("DINGTALK_WEBHOOK", "").strip():
            return result
        from .notify.alerts import send_alerts  # only with a robot to send to

        return result.with_meta(alerts=send_alerts(result, self.environ, log or self.log, all_clear=all_clear))


def run_single(run: Invocation, account: Account | None = None) -> JobResult:
    """The job in one account, then its alert."""
    log = run.log.bind(account_id=account.account_id) if account else run.log
    caller = run.calls.caller(role_arn=account.role_arn if account else None, log=log)
    ctx = JobContext(settings=run.settings, gateway=EcsGateway(caller), log=log, throughput=run.calls.throughput,
                     run_id=run.request_id)
    result = importlib.import_module(JOB_MODULES[run.job]).run(ctx)
    result = result.with_meta(account_id=account.account_id if account else None, shard=run.settings.shard,
                              request_id=run.request_id)
    if getattr(result, "awaiting_approval", False):  # APPROVAL=required: sign, store, send the card
        from .approval.nightly import propose

        # The bucket is in the functions' own account: their own credentials, not a target role's.
        result = propose(result, run.settings, run.environ, log, credentials=run.base)
    return run.alerted(result, log, all_clear=account is None)


def run_per_account(run: Invocation, accounts: tuple[Account, ...]) -> AccountsResult:
    """Each account in turn with its own role's credentials; one account's failure is reported, not fatal."""
    from .results.runs import AccountFailed, AccountsResult

    parts: list[JobResult] = []
    for account in accounts:
        try:
            parts.append(run_single(run, account))
        except ApiError as error:  # AssumeRole refused (role missing, trust policy, AccessDenied)
            run.log.error("account_failed", account_id=account.account_id, code=error.code, message=error.message)
            failed = RegionError(None, error.code, f"cannot assume {account.role_arn}: {error.message}",
                                 account_id=account.account_id)
            parts.append(AccountFailed(job=run.job, dry_run=run.settings.dry_run, regions=(),
                                       errors=(failed,), account_id=account.account_id))
    settings = run.settings
    merged = AccountsResult(job=run.job, dry_run=settings.dry_run, regions=tuple(settings.regions),
                            window=settings.window if run.job != "audit-autorenew" else None, parts=tuple(parts),
                            shard=settings.shard, request_id=run.request_id)
    if merged.all_clear is not None:  # a quiet night in every account: its one line, for them all
        return run.alerted(merged)  # type: ignore[return-value]
    return merged


def coordinate(run: Invocation, overrides: dict[str, Any], accounts: tuple[Account, ...] | None,
               shard_size: int) -> CoordinatorResult:
    """Invoke this same function once per shard, asynchronously; report what was dispatched."""
    from .gateway.fc import AsyncInvoker
    from .results.runs import CoordinatorResult

    if not run.base.is_sts:  # raised before any call: nothing was dispatched
        raise CredentialsError("fanning out invokes Function Compute with the function's own credentials, which "
                               "must be STS credentials (the function's role), not a static AccessKey")

    function = (run.environ.get("FC_FUNCTION_NAME") or getattr(getattr(run.context, "function", None), "name", None)
                or run.job)
    shards = plan_shards(accounts, run.settings.regions, shard_size)
    dispatched = dispatch(function, overrides, shards, run.request_id or "local", AsyncInvoker(run.base, run.environ))
    failed = [d for d in dispatched if d["status"] != "dispatched"]
    run.log.info("fanned_out", function=function, shards=len(shards), failed=len(failed))
    errors = tuple(RegionError(None, d["code"], f"shard {d['index']}/{d['of']} not dispatched: {d['message']}",
                               account_id=d["account_id"], names_account=True) for d in failed)
    result = CoordinatorResult(job=run.job, dry_run=run.settings.dry_run, regions=tuple(run.settings.regions),
                               shards=tuple(dispatched), errors=errors, request_id=run.request_id)
    return run.alerted(result)
