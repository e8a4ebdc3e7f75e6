"""Load and invoke the three handlers exactly as Function Compute would: event bytes + a context."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("scan-expiring", "renew-batch", "audit-autorenew")
_loaded: dict[str, ModuleType] = {}

# Watchers of every invocation (tests/reliability: the secret guard and the reliability ledger). Each is
# called with (function, payload) before the handler runs and returns a callback for (result, error).
INVOKE_HOOKS: list[Callable[[str, Any], Callable[[Any, BaseException | None], None]]] = []

# Every environment variable the project reads: cleared before each test so the host cannot leak in.
PROJECT_ENV = (
    "REGIONS", "WINDOW_DAYS", "DRY_RUN", "RENEW_PERIOD", "RENEW_PERIOD_UNIT", "MAX_RENEWALS",
    "EXPECTED_AUTO_RENEW", "AUTO_RENEW_DURATION", "AUTO_RENEW_FIX", "RENEW_INCLUDE_TAG", "RENEW_EXCLUDE_TAG",
    "ECS_ENDPOINT", "STS_ENDPOINT", "ASSUME_ROLE_ARN", "DINGTALK_WEBHOOK", "DINGTALK_SECRET",
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ECS_READ_TIMEOUT", "RENEW_AUTO_RENEWING",
    "ECS_MAX_QPS", "REGION_CONCURRENCY", "RENEW_CONCURRENCY",
    "MAX_COST", "ALERT_TIERS", "ALERT_TIMEZONE", "TAG_RENEWAL_PERIOD", "TAG_RENEWAL_UNIT", "TAG_RENEWAL_DAY",
    "TAG_OWNER", "ACCOUNTS", "ACCOUNTS_FILE", "SHARD_SIZE", "FC_ENDPOINT", "FC_SERVICE_NAME", "FC_QUALIFIER",
    "FANOUT_SERVICE_NAME",
)


def load_handler(function: str) -> ModuleType:
    if function not in _loaded:
        path = ROOT / "functions" / function / "index.py"
        spec = importlib.util.spec_from_file_location(f"fc_handler_{function.replace('-', '_')}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[function] = module
    return _loaded[function]


def fc_context(credentials: Any = None, *, request_id: str = "test-request", timeout: int = 120) -> SimpleNamespace:
    """A stand-in for Function Compute's context object (python3.10 runtime shape)."""
    creds = SimpleNamespace(
        access_key_id=getattr(credentials, "access_key_id", ""),
        access_key_secret=getattr(credentials, "access_key_secret", ""),
        security_token=getattr(credentials, "security_token", ""),
    )
    return SimpleNamespace(
        request_id=request_id,
        credentials=creds,
        function=SimpleNamespace(name=None, handler="index.handler", memory=256, timeout=timeout),
        region="cn-hangzhou",
        account_id="1234567890123456",
    )


def invoke(function: str, event: Any = None, context: Any = None) -> dict[str, Any]:
    """Call the handler with the event as bytes (what FC passes), unless it is already bytes/str."""
    function_info = getattr(context, "function", None)
    if function_info is not None and getattr(function_info, "name", "") is None:
        function_info.name = function  # as in Function Compute: the context names the function invoked
    payload = event if isinstance(event, (bytes, str)) or event is None else json.dumps(event).encode()
    payload = payload if payload is not None else b""
    after = [hook(function, payload) for hook in INVOKE_HOOKS]
    try:
        result = load_handler(function).handler(payload, context)
    except BaseException as error:
        for done in after:
            done(None, error)
        raise
    for done in after:
        done(result, None)
    return result
