"""The emulator's Function Compute invoke endpoint (``ecs_emulator/fc.py``): signing, routing, running.

FC 3.0 requests are built and signed by ``alibabacloud_fc20230330`` itself (captured at the transport,
then handed to the endpoint, tampered or not); FC 2.0 requests by aliyun-fc2's own ``Auth`` (or sent
through ``fc2.Client``). Either way the endpoint is held to exactly what the real client computes.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from datetime import datetime, timedelta, timezone
from email.utils import formatdate

import fc2
import pytest
from fc2.auth import Auth

from ecs_emulator import Emulator
from ecs_renewal import logs
from ecs_renewal.credentials import Credentials
from ecs_renewal.gateway.fc import Fc3Client, FcInvokeError
from tests.emulator.fc3_wire import sdk_request, send

PATH = "/2016-08-15/services/default/functions/{function}/invocations"


@pytest.fixture(autouse=True)
def _quiet_handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_default_stream", io.StringIO())


def signed(emu: Emulator, path: str, *, key=None, secret=None, token=None, date=None, **extra: str) -> dict:
    creds = emu.function_credentials
    key, secret = key or creds.access_key_id, secret or creds.access_key_secret
    token = creds.security_token if token is None else token
    headers = {"date": date or formatdate(usegmt=True), "content-type": "application/json", **extra}
    if token:
        headers["x-fc-security-token"] = token
    headers["authorization"] = Auth(key, secret, token).sign_request("POST", path, headers)
    return headers


def call(emu: Emulator, function: str = "scan-expiring", body: bytes = b"{}", **kwargs):
    path = PATH.format(function=function)
    return emu.fc.handle("POST", path, "", signed(emu, path, **kwargs), body)


def error_code(answer) -> str:
    assert "X-Fc-Request-Id" in answer.headers
    return json.loads(answer.body)["ErrorCode"]


def test_a_request_signed_by_aliyun_fc2_runs_the_handler(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    answer = call(emu)
    assert answer.status == 200 and json.loads(answer.body)["job"] == "scan-expiring"
    (record,) = emu.fc.invocations
    assert record.result["request_id"] == record.request_id == answer.headers["X-Fc-Request-Id"]


@pytest.mark.parametrize("change, status, code", [
    ({"date": "Mon, 01 Jan 2024 00:00:00 GMT"}, 403, "RequestTimeTooSkewed"),
    ({"key": "STS.unknownkeyunknownkey123"}, 403, "InvalidAccessKeyID"),
    ({"secret": "wrong-secret"}, 403, "SignatureNotMatch"),
    ({"token": "CAIS-someone-elses-token"}, 403, "InvalidSecurityToken"),
    ({"token": ""}, 403, "InvalidSecurityToken"),
])
def test_authentication_failures(emu: Emulator, change: dict, status: int, code: str) -> None:
    answer = call(emu, **change)
    assert (answer.status, error_code(answer)) == (status, code) and emu.fc.invocations == []


def test_missing_headers_and_tampering(emu: Emulator) -> None:
    path = PATH.format(function="scan-expiring")
    headers = signed(emu, path)
    assert error_code(emu.fc.handle("POST", path, "", {k: v for k, v in headers.items() if k != "date"}, b"")) == \
        "MissingRequiredHeader"
    tampered = {**headers, "x-fc-invocation-type": "Async"}  # x-fc-* headers are signed
    assert error_code(emu.fc.handle("POST", path, "", tampered, b"")) == "SignatureNotMatch"


def test_expired_credentials_are_refused(emu: Emulator) -> None:
    creds = emu.issue_sts_credentials()
    emu.expire_credentials(creds)
    answer = call(emu, key=creds.access_key_id, secret=creds.access_key_secret, token=creds.security_token)
    assert error_code(answer) == "InvalidSecurityToken" and "expired" in json.loads(answer.body)["ErrorMessage"]


def test_a_static_key_is_signed_without_a_token(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    key, secret = emu.static_key.access_key_id, emu.static_key.access_key_secret
    assert call(emu, key=key, secret=secret, token="").status == 200
    assert error_code(call(emu, key=key, secret=secret, token="CAIS-any")) == "InvalidSecurityToken"


@pytest.mark.parametrize("path, code", [
    ("/2016-08-15/services/default/functions/no-such-function/invocations", "FunctionNotFound"),
    ("/2016-08-15/services/default.prod/functions/scan-expiring/invocations", "AliasNotFound"),
    ("/2016-08-15/services/default.3/functions/scan-expiring/invocations", "VersionNotFound"),
    ("/2016-08-15/services/default/functions/scan-expiring/code", "PathNotFound"),
])
def test_routing(emu: Emulator, path: str, code: str) -> None:
    answer = emu.fc.handle("POST", path, "", signed(emu, path), b"{}")
    assert answer.status == 404 and error_code(answer) == code


def test_the_latest_qualifier_and_any_service_by_default(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    path = "/2016-08-15/services/anything.LATEST/functions/audit-autorenew/invocations"
    assert emu.fc.handle("POST", path, "", signed(emu, path), b"{}").status == 200


def test_an_unhandled_error_is_200_with_the_error_type(emu: Emulator) -> None:
    answer = call(emu, body=b'{"window_days": 0}')
    assert answer.status == 200 and answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    body = json.loads(answer.body)
    assert body["errorType"] == "InvalidEventError" and "window_days" in body["errorMessage"]


def test_async_failures_are_replayed_then_given_up(emu: Emulator) -> None:
    emu.fc.max_async_retry_attempts = 2
    emu.fc.time_scale = 9000  # the 900 s timeout between attempts: 0.1 s here
    answer = call(emu, body=b"{}", **{"x-fc-invocation-type": "Async"})  # no REGIONS: the handler raises
    assert answer.status == 202 and answer.body == b""
    assert emu.fc.wait_idle(timeout=30)
    assert [(r.attempt, r.error["errorType"]) for r in emu.fc.invocations] == [
        (1, "InvalidEventError"), (2, "InvalidEventError"), (3, "InvalidEventError")]
    starts = [r.started_at for r in emu.fc.invocations]
    assert all(later - earlier >= 900 for earlier, later in itertools.pairwise(starts))
    assert len({r.request_id for r in emu.fc.invocations}) == 3  # replay_same_request_id off by default
    (final,) = emu.fc.destinations
    assert (final.condition, final.attempts, final.payload) == ("RetriesExhausted", 3, b"{}")


def test_async_payload_limit(emu: Emulator) -> None:
    answer = call(emu, body=b" " * (128 * 1024 + 1), **{"x-fc-invocation-type": "Async"})
    assert (answer.status, error_code(answer)) == (400, "InvalidArgument")


def test_the_host_environment_never_reaches_the_function(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIONS", "cn-beijing")
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.delenv("ALIBABA_CLOUD_SECURITY_TOKEN", raising=False)
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    result = json.loads(call(emu, function="renew-batch").body)
    assert result["regions"] == ["cn-hangzhou"] and result["dry_run"] is True
    assert os.environ["REGIONS"] == "cn-beijing" and "ALIBABA_CLOUD_SECURITY_TOKEN" not in os.environ


def test_through_fc2_client_over_http(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    creds = emu.function_credentials
    client = fc2.Client(endpoint=emu.url, accessKeyID=creds.access_key_id, accessKeySecret=creds.access_key_secret,
                        securityToken=creds.security_token, Timeout=30)
    answer = client.invoke_function("default", "scan-expiring", payload=b'{"window_days": 3}')
    assert json.loads(answer.data)["job"] == "scan-expiring" and answer.headers["X-Fc-Request-Id"]


# ---- FC 3.0 API (2023-03-30), as alibabacloud_fc20230330 signs it --------------------------------------


def fc3_code(answer) -> str:
    body = json.loads(answer.body)
    assert body["RequestId"] == answer.headers["X-Fc-Request-Id"]
    return body["Code"]


def test_fc3_a_request_signed_by_the_sdk_runs_the_handler(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    wire = sdk_request(emu, body=b'{"window_days": 3}')
    assert wire.path == "/2023-03-30/functions/scan-expiring/invocations"
    assert wire.headers["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=")
    assert wire.headers["x-acs-security-token"] == emu.function_credentials.security_token
    answer = send(emu, wire)
    assert answer.status == 200 and json.loads(answer.body)["job"] == "scan-expiring"
    (record,) = emu.fc.invocations
    assert (record.api, record.service, record.payload) == ("fc3", "", b'{"window_days": 3}')


@pytest.mark.parametrize("change, status, code", [
    ({"secret": "wrong-secret"}, 403, "SignatureNotMatch"),
    ({"key": "STS.unknownkeyunknownkey123"}, 403, "InvalidAccessKeyID"),
    ({"token": "CAIS-someone-elses-token"}, 403, "InvalidSecurityToken"),
    ({"token": ""}, 403, "InvalidSecurityToken"),  # an STS key signed without its token
])
def test_fc3_authentication_failures(emu: Emulator, change, status, code) -> None:
    answer = send(emu, sdk_request(emu, **change))
    assert (answer.status, fc3_code(answer)) == (status, code) and emu.fc.invocations == []


def test_fc3_expired_token_and_static_key(emu: Emulator) -> None:
    creds = emu.issue_sts_credentials()
    emu.expire_credentials(creds)
    answer = send(emu, sdk_request(emu, key=creds.access_key_id, secret=creds.access_key_secret,
                                   token=creds.security_token))
    assert fc3_code(answer) == "InvalidSecurityToken" and "expired" in json.loads(answer.body)["Message"]
    static = emu.static_key
    answer = send(emu, sdk_request(emu, key=static.access_key_id, secret=static.access_key_secret,
                                   token="CAIS-any"))
    assert fc3_code(answer) == "InvalidSecurityToken"


def test_fc3_tampering_is_refused(emu: Emulator) -> None:
    wire = sdk_request(emu, qualifier="LATEST")
    assert wire.query == "qualifier=LATEST"
    assert fc3_code(send(emu, wire, body=b'{"dry_run": false}')) == "SignatureNotMatch"  # body hash is signed
    assert fc3_code(send(emu, wire, headers={"x-fc-invocation-type": "Async"})) == "SignatureNotMatch"
    assert fc3_code(send(emu, wire, query="qualifier=prod")) == "SignatureNotMatch"
    other = "/2023-03-30/functions/renew-batch/invocations"
    assert fc3_code(send(emu, wire, path=other)) == "SignatureNotMatch"
    assert fc3_code(send(emu, wire, headers={"x-fc-log-type": "Tail"})) == "SignatureNotMatch"  # unsigned x-fc-*
    assert fc3_code(send(emu, wire, drop=["x-acs-signature-nonce"])) == "MissingRequiredHeader"
    assert fc3_code(send(emu, wire, drop=["Authorization"])) == "MissingRequiredHeader"
    assert fc3_code(send(emu, wire, headers={"Authorization": "FC key:sig"})) == "InvalidAuthorization"
    assert emu.fc.invocations == []


def test_fc3_a_replayed_request_and_clock_skew_are_refused(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    wire = sdk_request(emu)
    assert send(emu, wire).status == 200
    assert fc3_code(send(emu, wire)) == "SignatureNonceUsed"  # the same signed request, sent again
    late = datetime.now(timezone.utc) + timedelta(minutes=16)
    monkeypatch.setattr("ecs_emulator.fc.utcnow", lambda: late)
    assert fc3_code(send(emu, sdk_request(emu))) == "RequestTimeTooSkewed"


@pytest.mark.parametrize("function, qualifier, status, code", [
    ("no-such-function", None, 404, "FunctionNotFound"),
    ("scan-expiring", "prod", 404, "AliasNotFound"),
    ("scan-expiring", "3", 404, "VersionNotFound"),
])
def test_fc3_routing(emu: Emulator, function, qualifier, status, code) -> None:
    answer = send(emu, sdk_request(emu, function, qualifier=qualifier))
    assert (answer.status, fc3_code(answer)) == (status, code)


def test_fc3_an_unhandled_error_is_200_with_the_error_type(emu: Emulator) -> None:
    answer = send(emu, sdk_request(emu, body=b'{"window_days": 0}'))
    assert answer.status == 200 and answer.headers["x-fc-error-type"] == "UnhandledInvocationError"
    assert json.loads(answer.body)["errorType"] == "InvalidEventError"


def test_fc3_async_task_ids_are_deduplicated_when_async_task_is_enabled(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    first = send(emu, sdk_request(emu, invocation_type="Async", task_id="shard-1"))
    again = send(emu, sdk_request(emu, invocation_type="Async", task_id="shard-1"))
    assert (first.status, again.status) == (202, 202)  # asyncTask off (FC's default): not deduplicated
    assert first.headers["X-Fc-Async-Task-Id"] == "shard-1"
    emu.fc.async_task = True
    assert send(emu, sdk_request(emu, invocation_type="Async", task_id="shard-2")).status == 202
    duplicate = send(emu, sdk_request(emu, invocation_type="Async", task_id="shard-2"))
    assert duplicate.status == 409
    bad = send(emu, sdk_request(emu, invocation_type="Async", task_id="1-starts-with-a-digit"))
    assert (bad.status, fc3_code(bad)) == (400, "InvalidArgument")
    assert emu.fc.wait_idle(30)
    assert sorted(r.task_id for r in emu.fc.invocations) == ["shard-1", "shard-1", "shard-2"]  # any order


def test_fc3_through_the_sdk_over_http(emu: Emulator) -> None:
    emu.fc.environment["REGIONS"] = "cn-hangzhou"
    creds = emu.function_credentials
    client = Fc3Client(Credentials(creds.access_key_id, creds.access_key_secret, creds.security_token, "t"),
                       emu.url, 30)
    answer = client.invoke("scan-expiring", b'{"window_days": 3}', invocation_type="Sync", qualifier="LATEST")
    assert answer.status == 200 and json.loads(answer.body)["job"] == "scan-expiring" and answer.request_id
    with pytest.raises(FcInvokeError) as refused:
        client.invoke("no-such-function", b"{}", invocation_type="Sync")
    assert (refused.value.status, refused.value.code) == (404, "FunctionNotFound") and refused.value.request_id
    assert creds.security_token not in str(refused.value)
