"""Bad input changes nothing; credentials are STS only; signatures are checked; alerts never fail a job."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from ecs_renewal.errors import CredentialsError, InvalidEventError
from tests.handlers import FUNCTIONS, fc_context, invoke


def soon() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=2)


BAD_EVENTS = [
    ({"regionz": ["cn-hangzhou"]}, "regionz"),                       # unknown key
    ({"window_days": "7"}, "window_days"),                           # wrong type
    ({"window_days": 400}, "window_days"),                           # out of range
    ({"expired_start": "2030-01-01T00:00Z"}, "expired_end"),         # a window with one end
    ({"expired_start": "2030-01-01", "expired_end": "2030-01-02T00:00Z"}, "expired_start"),  # format
    ({"period_unit": "Year"}, "period_unit"),                        # unit not Month/Week
    ({"duration": 5}, "duration"),                                   # duration not in the list
    ({"max_instances": 0}, "max_instances"),
    ({"instance_ids": ["not-an-id"]}, "instance_ids"),
    ({"regions": ["cn-hangzhou", 7]}, "regions"),
    ({"dry_run": "no"}, "dry_run"),
    (b"\xff\xfe\x00", "event"),                                      # not UTF-8
    (b"[]", "event"),                                                # not an object
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(("event", "key"), BAD_EVENTS)
def test_invalid_events_raise_naming_the_key_before_any_call(run, emulator, function, event, key):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    with pytest.raises(InvalidEventError) as caught:
        run(function, event if isinstance(event, bytes) else json.dumps(event).encode())
    assert caught.value.key == key
    assert emulator.calls == []


def test_a_static_key_without_token_is_refused_before_any_call(emulator, env, log_lines):
    static = emulator.static_key
    context = fc_context(SimpleNamespace(access_key_id=static.access_key_id,
                                         access_key_secret=static.access_key_secret, security_token=""))
    with pytest.raises(CredentialsError, match="ASSUME_ROLE_ARN"):
        invoke("scan-expiring", {}, context)
    assert emulator.calls == []


def test_assume_role_uses_the_temporary_credentials_for_ecs(emulator, env, log_lines):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    env["ASSUME_ROLE_ARN"] = emulator.default_role_arn
    static = emulator.static_key
    context = fc_context(SimpleNamespace(access_key_id=static.access_key_id,
                                         access_key_secret=static.access_key_secret, security_token=""))
    result = invoke("scan-expiring", {}, context)
    assert result["count"] == 1 and result["errors"] == []
    assume = [c for c in emulator.calls if c.action == "AssumeRole"]
    ecs = [c for c in emulator.calls if c.action == "DescribeInstances"]
    assert len(assume) == 1 and assume[0].access_key_id == static.access_key_id
    assert ecs and all(c.had_security_token and c.access_key_id.startswith("STS.") for c in ecs)
    assert all(c.role_arn == emulator.default_role_arn for c in ecs)
    session = assume[0].params["RoleSessionName"]
    assert session.startswith("ecs-renewal-scan-expiring")


def test_environment_credentials_when_the_context_has_none(emulator, env, log_lines):
    creds = emulator.function_credentials
    env.update(ALIBABA_CLOUD_ACCESS_KEY_ID=creds.access_key_id, ALIBABA_CLOUD_ACCESS_KEY_SECRET=creds.access_key_secret,
               ALIBABA_CLOUD_SECURITY_TOKEN=creds.security_token)
    result = invoke("scan-expiring", {}, SimpleNamespace(request_id="py312"))  # python3.12: no context.credentials
    assert result["errors"] == []
    assert all(c.had_security_token for c in emulator.calls)


def test_every_ecs_call_carries_the_security_token(run, emulator):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    run("renew-batch", {"dry_run": False})
    run("audit-autorenew")
    assert emulator.calls and all(c.had_security_token for c in emulator.calls)


def test_a_wrong_signature_is_rejected_and_reported_per_region(emulator, env, log_lines):
    good = emulator.function_credentials
    forged = SimpleNamespace(access_key_id=good.access_key_id, access_key_secret="not-the-secret",
                             security_token=good.security_token)
    result = invoke("scan-expiring", {}, fc_context(forged))
    assert result["expiring"] == []
    assert [e["region"] for e in result["errors"]] == ["cn-hangzhou"]
    assert result["errors"][0]["code"] in {"SignatureDoesNotMatch", "InvalidAccessKeySecret"}
    assert all(c.http_status == 400 for c in emulator.calls)


def test_one_region_down_fails_that_region_only(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    ok = emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.add_instance("cn-shanghai", expired_time=soon())
    emulator.faults.region_down("cn-shanghai")
    result = run("scan-expiring")
    assert [row["instance_id"] for row in result["expiring"]] == [ok]
    assert [e["region"] for e in result["errors"]] == ["cn-shanghai"]


def test_throttling_is_retried_until_it_passes(run, emulator):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.faults.add(action="DescribeInstances", kind="throttle", code="Throttling.User", times=2)
    result = run("scan-expiring")
    assert [row["instance_id"] for row in result["expiring"]] == [instance]
    assert result["api_calls"]["DescribeInstances"] == 3


def test_dingtalk_messages_are_signed_and_received(run, env, emulator):
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("scan-expiring")
    assert result["alerts"]["sent"] >= 1
    assert emulator.dingtalk.messages and emulator.dingtalk.messages[0]["msgtype"] == "markdown"


def test_a_wrong_dingtalk_secret_never_fails_the_job(run, env, emulator, log_lines):
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET="SECwrong")
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [instance]
    assert result["alerts"]["sent"] == 0 and emulator.dingtalk.messages == []


def test_no_secret_in_logs_or_results(run, env, emulator, log_lines):
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    results = [run("scan-expiring"), run("renew-batch", {"dry_run": False}), run("audit-autorenew")]
    creds = emulator.function_credentials
    token = emulator.dingtalk.webhook_url.split("access_token=")[1]
    text = log_lines.getvalue() + json.dumps(results)
    for secret in (creds.access_key_secret, creds.security_token, token, emulator.dingtalk.secret):
        assert secret not in text
