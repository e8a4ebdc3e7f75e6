"""Fixtures for the fault-injection tests: the emulator, the function's environment, a fast retry clock.

The pattern is tests/integration/conftest.py's. Two additions:

* ``pauses``: every pause the retry policy asked for. Retries sleep a fraction (``BACKOFF_SCALE``) of it so
  that storms of hundreds of faults finish in seconds; the pauses themselves are the policy's (checked in
  test_nothing_lost.py). Mark a test ``real_backoff`` to sleep them in full (the deadline test does).
* ``run(..., timeout=, context=)``: invoke with a given Function Compute timeout or context object.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecs_emulator import Emulator
from ecs_renewal import callpath
from ecs_renewal.gateway.ratelimit import RateLimiter
from ecs_renewal.gateway.retry import RetryPolicy
from tests.handlers import LiveEnv, capture_logs, fc_context, invoke, live_env

BACKOFF_SCALE = 0.02
MUTATING = ("RenewInstance", "ModifyInstanceAutoRenewAttribute")


def soon(days: float = 2) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(fleet=None, renew_visibility_delay=1.0) as emu:
        emu.faults.seed(20240501)
        yield emu


@pytest.fixture
def log_lines(monkeypatch) -> io.StringIO:
    return capture_logs(monkeypatch)


def log_records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


@pytest.fixture
def env(monkeypatch, emulator) -> LiveEnv:
    """The function's environment, pointing at the emulator; tests add to it with ``env.update``."""
    # ECS_MAX_QPS: the client-side pacing (gateway/ratelimit.py) would otherwise stretch storms of hundreds
    # of calls over many seconds; tests that are about the rate limit set it back.
    return live_env(monkeypatch, REGIONS="cn-hangzhou", ECS_ENDPOINT=emulator.url, STS_ENDPOINT=emulator.url,
                    ECS_MAX_QPS="2000,TagResources=90")  # the ledger's tags: under the emulator's 100/s


@pytest.fixture
def dingtalk(env, emulator):
    """Alerts on: the emulator's robot, signed."""
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    return emulator.dingtalk


@pytest.fixture(autouse=True)
def pauses(request, monkeypatch) -> list[float]:
    """The retry policy's pauses (seconds it asked for), slept scaled down unless marked real_backoff."""
    asked: list[float] = []
    scale = 1.0 if request.node.get_closest_marker("real_backoff") else BACKOFF_SCALE

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        time.sleep(seconds * scale)

    def policy(**kwargs: Any) -> RetryPolicy:
        made = RetryPolicy(**kwargs)
        made.sleep = sleep
        return made

    monkeypatch.setattr(callpath, "RetryPolicy", policy)
    if scale != 1.0:
        # The limiter's wait for the cloud's next minute and its 1 QPS probes, shrunk like the pauses: an
        # injected throttling answer (a storm) would otherwise cost a real minute. real_backoff keeps both.
        monkeypatch.setattr(callpath, "RateLimiter", lambda limit_for: RateLimiter(
            limit_for, minute=60 * scale, probe_interval=scale))
    return asked


@pytest.fixture
def run(emulator, env, log_lines):
    """``run("renew-batch", {...})`` → the handler's result, invoked with the emulator's STS credentials."""

    def _run(function: str, event: Any = None, *, credentials: Any = None, request_id: str = "req-1",
             timeout: int = 120, context: Any = None) -> dict:
        context = context or fc_context(credentials or emulator.function_credentials, request_id=request_id,
                                        timeout=timeout)
        return invoke(function, event, context)

    return _run


def calls_of(emulator: Emulator, action: str, instance_id: str | None = None) -> list:
    return [
        c for c in emulator.calls
        if c.action == action and (instance_id is None or c.params.get("InstanceId") == instance_id)
    ]


def assert_calls_match_stats(result: dict, emulator: Emulator) -> None:
    """Every attempt the gateway counted reached the emulator, and no other: the SDK never retries on its own."""
    seen = emulator.calls_by_action()
    for action, count in result["api_calls"].items():
        if action != "AssumeRole":
            assert seen.get(action, 0) == count, (action, seen, result["api_calls"])


def sdk_client(emulator: Emulator, *, auto_retry: bool = False, region: str = "cn-hangzhou"):
    """A bare AcsClient on the emulator with the function's STS credentials (what a person's script does)."""
    from aliyunsdkcore.auth.credentials import StsTokenCredential
    from aliyunsdkcore.client import AcsClient

    creds = emulator.function_credentials
    credential = StsTokenCredential(creds.access_key_id, creds.access_key_secret, creds.security_token)
    return AcsClient(region_id=region, credential=credential, auto_retry=auto_retry)


def renew_request(emulator: Emulator, instance_id: str, *, period: int = 1, unit: str = "Month",
                  token: str | None = None):
    from aliyunsdkecs.request.v20140526.RenewInstanceRequest import RenewInstanceRequest

    request = RenewInstanceRequest()
    request.set_endpoint(emulator.url)
    request.set_InstanceId(instance_id)
    request.set_Period(period)
    request.set_PeriodUnit(unit)
    if token:
        request.set_ClientToken(token)
    return request


def renew_by_hand(emulator: Emulator, instance_id: str, *, period: int = 1, unit: str = "Week") -> None:
    """An operator renews in the console: a renewal ecs-renewal knows nothing about."""
    token = f"manual-{instance_id}-{len(emulator.instance(instance_id).renewals)}"
    sdk_client(emulator).do_action_with_exception(
        renew_request(emulator, instance_id, period=period, unit=unit, token=token)
    )
