"""python3.12, the functions' runtime: the context carries no credentials, the role's come as environment variables.

Function Compute's docs ("Context", Python 3.12): ``request_id``, ``function`` (name, handler, memory,
timeout, version_id, qualifier), ``region``, ``logger``, ``account_id``, ``log_project``, ``log_store``;
the ``credentials`` field and the ``service`` struct are gone, and ``ALIBABA_CLOUD_ACCESS_KEY_ID`` /
``_SECRET`` / ``_SECURITY_TOKEN`` hold the role's STS credentials instead. The context here is that
object (``scripts/run_package.py``, the same one the packaged functions get): it has no other
attribute at all. Each handler runs against the emulator through the real SDK.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from ecs_renewal.errors import CredentialsError
from scripts.run_package import FCContext, FunctionMeta
from tests.handlers import FUNCTIONS, invoke

CREDENTIAL_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                        "ALIBABA_CLOUD_SECURITY_TOKEN")
# Something for each job to do: renew for real, fix for real (the default is a dry run).
EVENTS: dict[str, dict[str, Any]] = {
    "scan-expiring": {},
    "renew-batch": {"dry_run": False},
    "audit-autorenew": {"fix": True, "dry_run": False},
}


def py312_context(function: str, *, request_id: str = "req-312", timeout: int = 120) -> FCContext:
    meta = FunctionMeta(function, "index.handler", 256, timeout, "", "LATEST")
    return FCContext("1234567890123456", request_id, meta, None, "aliyun-fc-cn-hangzhou-x", "function-logs",
                     "cn-hangzhou")


def job_started(log_lines) -> list[dict[str, Any]]:
    return [line for line in map(json.loads, log_lines.getvalue().splitlines()) if line["event"] == "job_started"]


@pytest.fixture
def role_in_environment(emulator, env):
    """What Function Compute sets on python3.12: the role's STS session, in the function's environment."""
    creds = emulator.function_credentials
    env.update(dict(zip(CREDENTIAL_VARIABLES,
                        (creds.access_key_id, creds.access_key_secret, creds.security_token), strict=True)))
    return creds


def test_the_context_is_shaped_like_the_runtimes() -> None:
    context = py312_context("scan-expiring")
    assert not hasattr(context, "credentials") and not hasattr(context, "service")
    assert context.function.timeout == 120 and context.function.qualifier == "LATEST"
    with pytest.raises(AttributeError):
        context.credentials = object()  # nothing can add it back by accident


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_handler_signs_with_the_role_credentials_from_the_environment(
        function, emulator, role_in_environment, log_lines) -> None:
    emulator.add_instance("cn-hangzhou", expired_time=datetime.now(timezone.utc) + timedelta(days=2),
                          auto_renew_enabled=False)
    result = invoke(function, EVENTS[function], py312_context(function))

    assert result["errors"] == [] and result["request_id"] == "req-312"
    done = {"scan-expiring": "expiring", "renew-batch": "renewed", "audit-autorenew": "fixed"}[function]
    assert len(result[done]) == 1, result
    calls = emulator.calls
    assert calls and all(c.access_key_id == role_in_environment.access_key_id and c.had_security_token
                         and c.code is None for c in calls)
    assert [line["credentials"] for line in job_started(log_lines)] == ["environment"]


def test_assume_role_is_signed_with_the_environment_credentials(emulator, role_in_environment, env,
                                                                 log_lines) -> None:
    emulator.add_instance("cn-hangzhou", expired_time=datetime.now(timezone.utc) + timedelta(days=2))
    target = emulator.add_role("ecs-renewal-target")
    env["ASSUME_ROLE_ARN"] = target
    result = invoke("scan-expiring", {}, py312_context("scan-expiring"))
    assert result["errors"] == [] and result["count"] == 1
    assume = [c for c in emulator.calls if c.action == "AssumeRole"]
    ecs = [c for c in emulator.calls if c.action == "DescribeInstances"]
    assert [c.access_key_id for c in assume] == [role_in_environment.access_key_id]
    assert ecs and all(c.role_arn == target and c.access_key_id != role_in_environment.access_key_id for c in ecs)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_without_the_variables_nothing_is_called_and_the_error_names_them(function, emulator, env,
                                                                          log_lines) -> None:
    with pytest.raises(CredentialsError) as caught:
        invoke(function, EVENTS[function], py312_context(function))
    assert all(name in str(caught.value) for name in CREDENTIAL_VARIABLES)
    assert emulator.calls == []


def test_a_static_key_in_the_variables_is_refused_before_any_call(emulator, env, log_lines) -> None:
    static = emulator.static_key
    env.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": static.access_key_id,
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": static.access_key_secret})
    with pytest.raises(CredentialsError, match="ALIBABA_CLOUD_SECURITY_TOKEN"):
        invoke("renew-batch", {"dry_run": False}, py312_context("renew-batch"))
    assert emulator.calls == []
    assert static.access_key_secret not in log_lines.getvalue()


def test_a_warm_instance_signs_each_invocation_with_the_environment_it_has_then(emulator, env, log_lines) -> None:
    """Function Compute refreshes a warm instance's ALIBABA_CLOUD_* variables between invocations: nothing
    may keep the first invocation's keys (a module-level snapshot, a cached client) for the next."""
    emulator.add_instance("cn-hangzhou", expired_time=datetime.now(timezone.utc) + timedelta(days=2))
    first, second = emulator.function_credentials, emulator.issue_sts_credentials()
    signers = []
    for number, creds in enumerate((first, second), start=1):
        env.update(dict(zip(CREDENTIAL_VARIABLES, (creds.access_key_id, creds.access_key_secret,
                                                   creds.security_token), strict=True)))
        before = len(emulator.calls)
        result = invoke("scan-expiring", {}, py312_context("scan-expiring", request_id=f"req-{number}"))
        assert result["errors"] == [] and result["count"] == 1
        signers.append({c.access_key_id for c in emulator.calls[before:]})
    assert signers == [{first.access_key_id}, {second.access_key_id}]
