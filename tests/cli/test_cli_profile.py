"""Credentials from the aliyun CLI's ~/.aliyun/config.json (a temp HOME): StsToken, RamRoleArn, and refusals.

STS only still holds: an AccessKey from a profile signs AssumeRole and nothing else; ECS sees only the
role's temporary credentials. No secret reaches stdout or stderr.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ecs_emulator import Emulator
from ecs_renewal.cli import profile
from tests.cli.conftest import Outcome

pytestmark = pytest.mark.integration

WriteConfig = Callable[..., Path]


@pytest.fixture
def aliyun_config(monkeypatch: pytest.MonkeyPatch) -> WriteConfig:
    """Writes $HOME/.aliyun/config.json as `aliyun configure` does (the key names of its profiles)."""

    def write(*profiles: dict[str, Any], current: str | None = None) -> Path:
        path = Path(os.environ["HOME"]) / ".aliyun" / "config.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        full = [{"name": "default", "mode": "AK", "access_key_id": "", "access_key_secret": "", "sts_token": "",
                 "ram_role_name": "", "ram_role_arn": "", "ram_session_name": "", "expired_seconds": 0,
                 "region_id": "cn-hangzhou", "output_format": "json", "language": "en", **p} for p in profiles]
        path.write_text(json.dumps({"current": current or full[0]["name"], "profiles": full, "meta_path": ""}))
        return path

    return write


@pytest.fixture
def no_env_credentials(monkeypatch: pytest.MonkeyPatch, operator_env: None) -> None:
    for name in profile.CREDENTIAL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def sts_profile(emulator: Emulator, name: str = "sts") -> dict[str, Any]:
    creds = emulator.issue_sts_credentials()
    return {"name": name, "mode": "StsToken", "access_key_id": creds.access_key_id,
            "access_key_secret": creds.access_key_secret, "sts_token": creds.security_token}


def role_profile(emulator: Emulator, name: str = "ops", **extra: Any) -> dict[str, Any]:
    key = emulator.static_key
    return {"name": name, "mode": "RamRoleArn", "access_key_id": key.access_key_id,
            "access_key_secret": key.access_key_secret, "ram_role_arn": emulator.default_role_arn,
            "ram_session_name": "operator-alice", **extra}


def secrets_of(config: Path) -> list[str]:
    profiles = json.loads(config.read_text())["profiles"]
    return [p[k] for p in profiles for k in ("access_key_secret", "sts_token") if p.get(k)]


def assert_no_secret(outcome: Outcome, config: Path) -> None:
    for secret in secrets_of(config):
        assert secret not in outcome.out and secret not in outcome.err


def ecs_calls(emulator: Emulator) -> list[Any]:
    return [c for c in emulator.calls if c.action != "AssumeRole"]


def expiring(emulator: Emulator) -> str:
    from datetime import datetime, timedelta, timezone

    return emulator.add_instance("cn-hangzhou", expired_time=datetime.now(timezone.utc) + timedelta(days=2))


def test_sts_token_profile(cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None) -> None:
    instance = expiring(emulator)
    config = aliyun_config(sts_profile(emulator))
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "sts")
    assert outcome.code == 0 and instance in outcome.out
    assert "credentials: profile 'sts' (StsToken" in outcome.err
    assert ecs_calls(emulator) and all(c.had_security_token for c in emulator.calls)
    assert_no_secret(outcome, config)


def test_ram_role_arn_assumes_the_role_first_and_ecs_sees_only_the_role(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    expiring(emulator)
    config = aliyun_config(role_profile(emulator))
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "ops")
    assert outcome.code == 0, outcome.err
    first, *rest = emulator.calls
    assert first.action == "AssumeRole" and first.access_key_id == emulator.static_key.access_key_id
    assert not first.had_security_token and first.params["RoleSessionName"] == "operator-alice"
    assert first.params["DurationSeconds"] == "3600"
    assert rest and all(c.action != "AssumeRole" for c in rest)
    assert all(c.had_security_token and c.role_arn == emulator.default_role_arn for c in rest)
    assert all(c.access_key_id != emulator.static_key.access_key_id for c in rest)  # the key never signs ECS
    assert "assumed " + emulator.default_role_arn in outcome.err
    assert_no_secret(outcome, config)


def test_the_profile_gives_invoke_its_credentials_too(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None, handler_logs: Any
) -> None:
    aliyun_config(role_profile(emulator))
    outcome = cli("invoke", "scan-expiring", "--profile", "ops", "--format", "json")
    assert outcome.code == 0, outcome.err
    assert json.loads(outcome.out)["job"] == "scan-expiring"


def test_choice_order_flag_then_variable_then_environment_then_current(
    cli, emulator: Emulator, aliyun_config: WriteConfig, monkeypatch: pytest.MonkeyPatch, operator_env: None
) -> None:
    aliyun_config(sts_profile(emulator, "first"), sts_profile(emulator, "second"), current="first")
    environ = dict(os.environ)
    assert profile.chosen_profile("second", environ) == ("second", "--profile")
    environ["ALIBABA_CLOUD_PROFILE"] = "second"
    assert profile.chosen_profile(None, environ) == ("second", "ALIBABA_CLOUD_PROFILE")
    del environ["ALIBABA_CLOUD_PROFILE"]
    assert profile.chosen_profile(None, environ) is None  # ALIBABA_CLOUD_ACCESS_KEY_ID is set: as before
    del environ["ALIBABA_CLOUD_ACCESS_KEY_ID"]
    name, why = profile.chosen_profile(None, environ) or ("", "")
    assert name == "first" and "current profile" in why


def test_the_current_profile_when_nothing_else_is_given(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    aliyun_config(sts_profile(emulator, "a"), role_profile(emulator, "b"), current="b")
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 0 and "profile 'b' (RamRoleArn" in outcome.err
    assert emulator.calls[0].action == "AssumeRole"


def test_a_named_profile_wins_over_the_environment_and_the_environment_comes_back(
    cli, emulator: Emulator, aliyun_config: WriteConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    aliyun_config(sts_profile(emulator))
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.not-a-key-the-emulator-knows")
    monkeypatch.setenv("ALIBABA_CLOUD_PROFILE", "sts")
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 0, outcome.err
    assert os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "STS.not-a-key-the-emulator-knows"  # restored


def test_an_ak_profile_is_refused_before_any_call(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    key = emulator.static_key
    config = aliyun_config({"name": "default", "mode": "AK", "access_key_id": key.access_key_id,
                            "access_key_secret": key.access_key_secret})
    outcome = cli("renew", "--region", "cn-hangzhou")
    assert outcome.code == 2 and outcome.out == "" and emulator.calls == []
    assert "mode AK" in outcome.err and "RamRoleArn" in outcome.err and "STS" in outcome.err
    assert key.access_key_id not in outcome.err  # masked
    assert_no_secret(outcome, config)


def test_an_ak_profile_may_only_assume_assume_role_arn(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = emulator.static_key
    aliyun_config({"name": "default", "mode": "AK", "access_key_id": key.access_key_id,
                   "access_key_secret": key.access_key_secret})
    monkeypatch.setenv("ASSUME_ROLE_ARN", emulator.default_role_arn)
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 0, outcome.err
    assert emulator.calls[0].action == "AssumeRole" and emulator.calls[0].access_key_id == key.access_key_id
    assert all(c.had_security_token for c in ecs_calls(emulator))


def test_chainable_ram_role_arn_from_a_source_profile(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    second = emulator.add_role("auditor")
    key = emulator.static_key
    aliyun_config({"name": "base", "mode": "AK", "access_key_id": key.access_key_id,
                   "access_key_secret": key.access_key_secret},
                  {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "base",
                   "ram_role_arn": second, "ram_session_name": "chain"}, current="chained")
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 0, outcome.err
    assert [c.action for c in emulator.calls][:1] == ["AssumeRole"]
    assert all(c.role_arn == second for c in ecs_calls(emulator))


@pytest.mark.parametrize("entry, says", [
    ({"name": "x", "mode": "EcsRamRole", "ram_role_name": "r"}, "mode EcsRamRole"),
    ({"name": "x", "mode": "StsToken", "access_key_id": "STS.abc", "access_key_secret": "s3cr3t-value"},
     "has no sts_token"),
    ({"name": "x", "mode": "RamRoleArn", "access_key_id": "LTAI-x", "access_key_secret": "s3cr3t-value",
      "ram_role_arn": "not-an-arn"}, "ram_role_arn must look like"),
    ({"name": "x", "mode": "RamRoleArn", "access_key_id": "LTAI-x", "access_key_secret": "s3cr3t-value",
      "ram_role_arn": "acs:ram::1234567890123456:role/r", "expired_seconds": 60}, "expired_seconds"),
    ({"name": "x", "mode": "ChainableRamRoleArn", "source_profile": "x",
      "ram_role_arn": "acs:ram::1234567890123456:role/r"}, "loop"),
])
def test_unusable_profiles_exit_2_and_say_why(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None, entry: dict, says: str
) -> None:
    config = aliyun_config(entry)
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "x")
    assert outcome.code == 2 and says in outcome.err and outcome.out == ""
    assert emulator.calls == []
    assert_no_secret(outcome, config)


def test_an_unknown_profile_lists_the_known_ones(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    aliyun_config(sts_profile(emulator, "prod"), sts_profile(emulator, "test"))
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "staging")
    assert outcome.code == 2 and "no profile 'staging'" in outcome.err and "'prod', 'test'" in outcome.err


def test_a_named_profile_without_a_config_file(cli, emulator: Emulator, no_env_credentials: None) -> None:
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "prod")
    assert outcome.code == 2 and "config.json does not exist" in outcome.err and "aliyun configure" in outcome.err


def test_a_broken_config_file_shows_none_of_its_content(
    cli, emulator: Emulator, no_env_credentials: None
) -> None:
    path = Path(os.environ["HOME"]) / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"current": "p", "profiles": [{"access_key_secret": "s3cr3t-in-a-broken-file"')
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "p")
    assert outcome.code == 2 and "cannot read" in outcome.err and "s3cr3t" not in outcome.err


def test_a_failed_assume_role_exits_2_without_the_secret(
    cli, emulator: Emulator, aliyun_config: WriteConfig, no_env_credentials: None
) -> None:
    config = aliyun_config(role_profile(emulator, access_key_secret="a-wrong-secret-for-this-key"))
    outcome = cli("scan", "--region", "cn-hangzhou", "--profile", "ops")
    assert outcome.code == 2 and "AssumeRole of" in outcome.err and "failed" in outcome.err
    assert [c.action for c in emulator.calls] == ["AssumeRole"]  # and no ECS call after it
    assert_no_secret(outcome, config)


def test_no_profile_and_no_environment_is_the_usual_error(cli, emulator: Emulator, no_env_credentials: None) -> None:
    outcome = cli("scan", "--region", "cn-hangzhou")
    assert outcome.code == 2 and "no credentials" in outcome.err and emulator.calls == []
