"""Promise 5 — secrets never leak: not in logs, results, alerts or exception texts; key ids only masked.

Every test of the suite is watched by the secret guard (``tests/conftest.py`` + ``ledger.py``): it scans
all log lines, handler results and exceptions, DingTalk message bodies, ``EcsRenewalError`` texts and
captured output for every secret any emulator issued (raw, URL-encoded once or twice, or cut after 24
characters) and for full AccessKey ids. The tests here aim at the paths where a secret is most likely to
escape: errors that quote the request (the SDK's connection errors quote the URL, whose query string
holds the SecurityToken; a server echoes its string-to-sign), credential errors, AssumeRole, DingTalk
failures.

Mechanism: ``logs.redact`` (registered secrets in all their encodings, secret-looking parameters, full
key ids → masked) applied to every log line, to every ``ApiError`` message and to every result
(``runtime.run_job``); ``Credentials`` registers its secret, token and id the moment it exists.
"""

from __future__ import annotations

import json
import socket
import urllib.parse
from types import SimpleNamespace

import pytest

from ecs_emulator.signing import string_to_sign
from ecs_renewal import logs
from ecs_renewal.credentials import Credentials, resolve_base_credentials
from ecs_renewal.errors import ApiError, CredentialsError
from tests.handlers import fc_context, invoke
from tests.reliability.conftest import log_records, soon
from tests.reliability.ledger import BOOK, FRAGMENT

pytestmark = pytest.mark.promise(5)


def secrets_of(emulator) -> list[str]:
    creds = emulator.function_credentials
    return [creds.access_key_secret, creds.security_token, emulator.dingtalk.access_token,
            emulator.dingtalk.secret, emulator.static_key.access_key_secret]


def assert_clean(text: str, emulator) -> None:
    for secret in secrets_of(emulator):
        for form in (secret, urllib.parse.quote(secret, safe=""), secret[:FRAGMENT]):
            assert form not in text


def everything(result, log_lines, dingtalk) -> str:
    alerts = json.dumps(dingtalk.messages + [a.body for a in dingtalk.rejected], ensure_ascii=False)
    return json.dumps(result, ensure_ascii=False) + log_lines.getvalue() + alerts


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_sdk_error_quoting_the_request_url_leaks_no_token(run, env, emulator, dingtalk, log_lines):
    """Connection refused: the SDK's message quotes the URL, SecurityToken and Signature included."""
    env["ECS_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
    result = run("scan-expiring")
    (error,) = result["errors"]
    assert error["code"] == "SDK.HttpError" and "SecurityToken=***" in error["message"]
    assert dingtalk.messages, "the failure was alerted"
    text = everything(result, log_lines, dingtalk)
    assert_clean(text, emulator)
    assert emulator.function_credentials.access_key_id not in text  # the URL's AccessKeyId: masked


def test_a_server_echoing_its_string_to_sign_leaks_no_token(run, emulator, dingtalk, log_lines):
    """An API gateway answering SignatureDoesNotMatch with the string-to-sign (which holds the token)."""
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    creds = emulator.function_credentials
    echoed = string_to_sign("POST", {"AccessKeyId": creds.access_key_id, "Action": "RenewInstance",
                                     "SecurityToken": creds.security_token, "InstanceId": instance})
    emulator.faults.add(action="RenewInstance", kind="error", status=400, code="SignatureDoesNotMatch",
                        message=f"Specified signature is not matched with our calculation. server string to "
                                f"sign is:{echoed}", times=None)
    result = run("renew-batch", {"dry_run": False})
    assert [f["code"] for f in result["failed"]] == ["SignatureDoesNotMatch"]
    assert "SecurityToken%3D***" in result["failed"][0]["message"]
    assert_clean(everything(result, log_lines, dingtalk), emulator)


def test_api_errors_keep_no_secret_in_their_text(emulator):
    creds = emulator.function_credentials
    Credentials(creds.access_key_id, creds.access_key_secret, creds.security_token, "test")  # as the run knows it
    error = ApiError("X", f"echo AccessKeySecret={creds.access_key_secret} and {creds.security_token[:300]}",
                     action="RenewInstance")
    for text in (str(error), error.message, repr(error)):
        assert_clean(text, emulator)


def test_credential_errors_never_quote_a_secret(emulator, env, log_lines):
    static = emulator.static_key
    env.update(ALIYUN_ACCESS_KEY_ID=static.access_key_id, ALIYUN_ACCESS_KEY_SECRET=static.access_key_secret)
    with pytest.raises(CredentialsError) as sdk_vars:
        invoke("scan-expiring", {}, fc_context(emulator.function_credentials))
    del env["ALIYUN_ACCESS_KEY_ID"], env["ALIYUN_ACCESS_KEY_SECRET"]

    no_token = fc_context(SimpleNamespace(access_key_id=static.access_key_id,
                                          access_key_secret=static.access_key_secret, security_token=""))
    with pytest.raises(CredentialsError) as static_key:
        invoke("scan-expiring", {}, no_token)
    with pytest.raises(CredentialsError) as no_secret:
        resolve_base_credentials(SimpleNamespace(credentials=SimpleNamespace(
            access_key_id=static.access_key_id, access_key_secret="", security_token="x" * 40)), {})
    for caught in (sdk_vars, static_key, no_secret):
        text = str(caught.value)
        assert_clean(text, emulator)
        assert static.access_key_id not in text  # named only masked
    assert "LTAI-e***" in str(static_key.value)
    assert emulator.calls == []


def test_logs_name_access_key_ids_masked_only(run, env, emulator, log_lines):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    env["ASSUME_ROLE_ARN"] = emulator.default_role_arn
    result = run("renew-batch", {"dry_run": False})
    assert result["renewed"] and result["errors"] == []
    records = log_records(log_lines)
    started = next(r for r in records if r["event"] == "job_started")
    assumed = next(r for r in records if r["event"] == "role_assumed")
    assert started["access_key_id"] == logs.mask_key_id(emulator.function_credentials.access_key_id)
    assert "***" in assumed["access_key_id"]
    ids = {c.access_key_id for c in emulator.calls}  # the function's key and the assumed one
    assert len(ids) == 2 and not any(key_id in log_lines.getvalue() for key_id in ids)


def test_dingtalk_failures_log_the_host_never_the_token_or_signing_secret(run, env, emulator, dingtalk,
                                                                          log_lines, monkeypatch):
    from ecs_renewal.notify import dingtalk as notifier

    monkeypatch.setattr(notifier, "DEFAULT_TIMEOUT_SECONDS", 0.3)
    monkeypatch.setattr(notifier, "_BACKOFF_BASE_SECONDS", 0.01)
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    dingtalk.fail_next(2, errcode=-1, errmsg=f"busy {emulator.dingtalk.webhook_url}")  # an echoing robot
    run("renew-batch")  # reports every run (a scan digest would not repeat)
    env["DINGTALK_SECRET"] = "SEC" + "0" * 64  # a wrong secret: sign not match
    run("renew-batch")
    dingtalk.delay = 0.5  # and a robot that answers too late
    env["DINGTALK_SECRET"] = emulator.dingtalk.secret
    run("renew-batch")
    failures = [r for r in log_records(log_lines) if r["event"].startswith("dingtalk message not")]
    assert len(failures) >= 2 and all(r["host"] == "127.0.0.1" for r in failures)
    text = log_lines.getvalue()
    assert_clean(text, emulator)
    assert "SEC" + "0" * 64 not in text


def test_the_guard_finds_secrets_raw_encoded_and_cut_off(emulator):
    """The detector behind every other test: a redaction that stopped working would be caught."""
    token = emulator.function_credentials.security_token
    secret = emulator.function_credentials.access_key_secret
    once = urllib.parse.quote(token, safe="")
    for leak in (f"x {secret} y", f"SecurityToken={once}&x", urllib.parse.quote(once, safe=""),
                 f"...{token[:FRAGMENT + 3]}...", json.dumps({"t": token})):
        assert BOOK.find(leak), leak
    assert not BOOK.find(logs.redact(f"SecurityToken={once}&Signature=abc&AccessKeySecret={secret}"))
    assert not BOOK.find(f"masked {logs.mask_key_id(emulator.function_credentials.access_key_id)}")
