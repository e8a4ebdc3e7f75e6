"""What every handler does: event → settings → call path → execution mode → run record → result.

Handlers stay one line (``return run_job("renew-batch", event, context)``). Everything that could
fail because of input or configuration happens before the first API call; everything after it is
reported in the result instead of raised, so Function Compute never replays a half-done batch
because of one instance (reference trap 4). The typed result becomes the contract's dict here, once.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .callpath import TIMEOUT_MARGIN_SECONDS, CallPath
from .config.build import build_settings, throughput_settings  # not the settings facade: one module fewer
from .config.event import parse_event
from .config.resolve import environment_value
from .contract import run_record, to_contract
from .credentials import require_sts, resolve_base_credentials
from .errors import CredentialsError, InvalidSettingError
from .fanout import needs_fan_out
from .logs import get_logger, mask_key_id
from .modes import Invocation, coordinate, run_per_account, run_single
from .results import JobResult

if TYPE_CHECKING:
    from .accounts import Account
    from .settings import Settings

# What accounts.load_accounts reads: with neither set (and no `accounts` in the event) a run is for the
# function's own account.
ACCOUNT_VARIABLES = ("ACCOUNTS", "ACCOUNTS_FILE")

__all__ = ["TIMEOUT_MARGIN_SECONDS", "resolve_base_credentials", "run_job"]

_COLLECTOR = {"tuned": False}


def tune_collector() -> None:
    """Once per process, when the first run starts (never at import: the CLI and tests import this too).

    A run parses thousands of ~120 KB pages, and with the default thresholds the collector walks the pages
    still in flight dozens of times (gen-1 passes of up to 50 ms, ~15 % of an audit's CPU). What was built
    before the run lives as long as the process: frozen, it is never walked again; and the young
    generation may grow larger before a pass (job data has no reference cycles to find early).
    """
    if not _COLLECTOR["tuned"]:
        _COLLECTOR["tuned"] = True
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)


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


def target_accounts(settings: Settings, environ: Mapping[str, str]) -> tuple[Account, ...] | None:
    """The configured target accounts, narrowed by the event; None: the function's own account. Most runs
    have none configured: they do not load the accounts module at all (a cold start pays for each import)."""
    if settings.accounts is None and not any(environ.get(name, "").strip() for name in ACCOUNT_VARIABLES):
        return None
    from .accounts import load_accounts, narrow

    return narrow(load_accounts(environ), settings.accounts)


def run_job(
    job: str,
    event: Any,
    context: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A handler's answer: the run's typed result as the contract's dict (made here, once)."""
    return to_contract(run_job_result(job, event, context, environ=environ))


def run_job_result(
    job: str,
    event: Any,
    context: Any = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> JobResult:
    """One run, its typed result (the command line shows it without a round trip through the dict)."""
    started = time.monotonic()
    # A snapshot: the run sees one consistent configuration even if the process environment changes.
    environ = dict(os.environ) if environ is None else environ
    request_id = request_id_of(context)
    log = get_logger(job=job, request_id=request_id)

    # Everything that depends only on input is checked before the first API call. A configuration error
    # is told to the group first (once a day), then raised as before: a nightly timer must not fail silently.
    try:
        settings = build_settings(job, event, environ)
        accounts = target_accounts(settings, environ)
        if accounts and settings.assume_role_arn:
            raise InvalidSettingError("ACCOUNTS", "set ACCOUNTS or ASSUME_ROLE_ARN, not both: with ACCOUNTS each "
                                      "account's own role is assumed with the function's credentials")
        shard_size = _shard_size(environ)
        throughput = throughput_settings(environ)
        base = resolve_base_credentials(context, environ)
        require_sts(base, assume_role_arn=settings.assume_role_arn or (accounts[0].role_arn if accounts else None))
    except (InvalidSettingError, CredentialsError) as error:
        from .notify.config_alert import alert_configuration_error

        alert_configuration_error(job, error, environ, log)
        raise
    if settings.ignored_keys:
        log.warning("event_keys_ignored", keys=list(settings.ignored_keys),
                    why=f"these keys do not apply to {job}")
    log.info("job_started", regions=list(settings.regions), dry_run=settings.dry_run,
             credentials=base.source, access_key_id=mask_key_id(base.access_key_id))

    tune_collector()
    deadline = started + max(5.0, _function_timeout(context, environ) - TIMEOUT_MARGIN_SECONDS)
    calls = CallPath(settings, throughput, lambda: resolve_base_credentials(context, environ), base, log,
                     request_id, deadline, read_timeout=_read_timeout(environ))
    run = Invocation(settings, calls, base, context, environ, log, request_id)
    result: JobResult
    if settings.shard is None and needs_fan_out(accounts, settings.regions, shard_size):
        result = coordinate(run, parse_event(event), accounts, shard_size)
    elif accounts:
        result = run_per_account(run, accounts)
    else:
        result = run_single(run)
    log.info("job_finished", duration_ms=int((time.monotonic() - started) * 1000), **run_record(result))
    return result
