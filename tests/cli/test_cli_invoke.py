"""``python -m ecs_renewal invoke`` against the emulator's Function Compute endpoint.

By default through the FC 3.0 API and ``alibabacloud_fc20230330`` (the emulator checks its ACS3
signature exactly); ``--api fc2`` / ``FC_API=fc2`` through aliyun-fc2 and the FC 2.0 API. The emulator
runs the real handler (``functions/<name>/index.py``) with a context carrying the function's STS
credentials.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ecs_emulator import Emulator
from ecs_renewal.cli.invoke import fc_endpoint
from ecs_renewal.errors import InvalidSettingError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SOON = datetime.now(timezone.utc) + timedelta(days=3)


def test_sync_invoke_returns_the_handlers_result(cli, emulator: Emulator) -> None:
    instance = emulator.add_instance("cn-hangzhou", expired_time=SOON)
    outcome = cli("invoke", "scan-expiring", "--event", str(ROOT / "events" / "scan-expiring.json"))
    assert outcome.code == 0 and "expiring (1)" in outcome.out and instance in outcome.out
    (record,) = emulator.fc.invocations
    assert record.invocation_type == "Sync" and record.error is None and record.function == "scan-expiring"
    assert record.payload == (ROOT / "events" / "scan-expiring.json").read_bytes()
    assert record.api == "fc3" and record.service == ""  # FC 3.0: no service in the path


def test_the_qualifier_is_a_query_parameter_of_the_fc3_api(cli, emulator: Emulator) -> None:
    assert cli("invoke", "scan-expiring", "--qualifier", "LATEST").code == 0
    outcome = cli("invoke", "scan-expiring", "--qualifier", "prod")
    assert outcome.code == 1 and "404 AliasNotFound" in outcome.err
    assert [r.qualifier for r in emulator.fc.invocations] == ["LATEST"]


def test_sync_invoke_json_is_the_result(cli, emulator: Emulator) -> None:
    emulator.add_instance("cn-hangzhou", expired_time=SOON)
    outcome = cli("invoke", "renew-batch", "--format", "json")
    result = json.loads(outcome.out)
    assert result["job"] == "renew-batch" and result["dry_run"] is True and len(result["renewed"]) == 1
    assert result["request_id"] == emulator.fc.invocations[0].request_id  # the context's request id


def test_async_invoke_is_accepted_and_runs_in_the_background(cli, emulator: Emulator) -> None:
    emulator.add_instance("cn-hangzhou", expired_time=SOON)
    outcome = cli("invoke", "renew-batch", "--async", "--event", str(ROOT / "events" / "timer.json"))
    assert outcome.code == 0 and "accepted" in outcome.out
    assert emulator.fc.wait_idle(timeout=30)
    (record,) = emulator.fc.invocations
    assert record.invocation_type == "Async" and record.error is None and record.api == "fc3"
    assert record.result["job"] == "renew-batch" and len(record.result["renewed"]) == 1
    assert record.request_id in outcome.out


@pytest.mark.parametrize("api", ["fc3", "fc2"])
def test_a_wrong_signature_is_rejected(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, api: str) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-the-secret-of-this-key")
    outcome = cli("invoke", "scan-expiring", "--api", api)
    assert outcome.code == 1 and "403 SignatureNotMatch" in outcome.err
    assert emulator.fc.invocations == []


@pytest.mark.parametrize("api", ["fc3", "fc2"])
def test_another_keys_security_token_is_rejected(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch,
                                                 api: str) -> None:
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", emulator.issue_sts_credentials().security_token)
    outcome = cli("invoke", "scan-expiring", "--api", api)
    assert outcome.code == 1 and "403 InvalidSecurityToken" in outcome.err and emulator.fc.invocations == []
    assert emulator.function_credentials.security_token not in outcome.err + outcome.out


def test_an_expired_token_is_rejected(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = emulator.issue_sts_credentials()
    emulator.expire_credentials(creds)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", creds.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", creds.access_key_secret)
    monkeypatch.setenv("ALIBABA_CLOUD_SECURITY_TOKEN", creds.security_token)
    outcome = cli("invoke", "scan-expiring")
    assert outcome.code == 1 and "403 InvalidSecurityToken" in outcome.err and "expired" in outcome.err
    assert creds.security_token not in outcome.err


def test_fc2_reaches_a_function_deployed_as_a_service(cli, emulator: Emulator,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FC_API", "fc2")
    assert cli("invoke", "scan-expiring").code == 0
    (record,) = emulator.fc.invocations
    assert (record.api, record.service) == ("fc2", "default")


def test_the_functions_error_is_reported(cli, emulator: Emulator) -> None:
    emulator.fc.environment.pop("REGIONS")  # the deployed function has no regions configured
    outcome = cli("invoke", "scan-expiring")
    assert outcome.code == 1 and "the function raised InvalidEventError" in outcome.err and "regions" in outcome.err


def test_an_unknown_fc2_service_gets_a_hint(cli, emulator: Emulator) -> None:
    emulator.fc.services = {"ecs-renewal"}
    outcome = cli("invoke", "audit-autorenew", "--api", "fc2")
    assert outcome.code == 1 and "404 ServiceNotFound" in outcome.err and "FC_API=fc3" in outcome.err
    assert cli("invoke", "audit-autorenew", "--api", "fc2", "--service", "ecs-renewal").code == 0
    assert cli("invoke", "audit-autorenew").code == 0  # FC 3.0: no service to guess


def test_an_unreachable_endpoint_is_a_failure_not_a_traceback(cli, emulator: Emulator,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FC_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    outcome = cli("invoke", "scan-expiring")
    assert outcome.code == 1 and "cannot reach Function Compute" in outcome.err and "Traceback" not in outcome.err


@pytest.mark.parametrize("setting, value, message", [
    ("FC_ENDPOINT", "http://fc.example.com", "plain http"),  # refused before any connection
    ("FC_ENDPOINT", "fc.example.com", "scheme"),
    ("FC_ENDPOINT", "http://127.0.0.1:18080/2023-03-30", "without a path"),
    ("FC_API", "fc4", "FC_API"),
    ("ALIBABA_CLOUD_SECURITY_TOKEN", "", "STS credentials only"),
])
def test_bad_settings_exit_2_without_a_call(cli, emulator: Emulator, monkeypatch: pytest.MonkeyPatch,
                                            setting: str, value: str, message: str) -> None:
    monkeypatch.setenv(setting, value)
    outcome = cli("invoke", "scan-expiring")
    assert outcome.code == 2 and message in outcome.err and emulator.fc.invocations == []


def test_an_invalid_event_is_refused_before_sending(cli, emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"window_days": 0}')
    outcome = cli("invoke", "renew-batch", "--event", str(tmp_path / "bad.json"))
    assert outcome.code == 2 and "window_days" in outcome.err and emulator.fc.invocations == []


def test_the_real_endpoint_is_built_from_account_and_region() -> None:
    assert fc_endpoint({"FC_ACCOUNT_ID": "1234567890123456", "FC_DEPLOY_REGION": "cn-shanghai"}) == \
        "https://1234567890123456.cn-shanghai.fc.aliyuncs.com"
    assert fc_endpoint({"ALIBABA_CLOUD_ACCOUNT_ID": "42"}, "ap-southeast-1") == "https://42.ap-southeast-1.fc.aliyuncs.com"
    with pytest.raises(InvalidSettingError, match="FC_ACCOUNT_ID"):
        fc_endpoint({})
