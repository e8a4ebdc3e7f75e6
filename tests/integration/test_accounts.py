"""Many accounts, many regions: AssumeRole per account, and fan-out through Function Compute (emulated)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.errors import InvalidEventError, InvalidSettingError

PROD, STAGING = "2000000000000001", "2000000000000002"


def soon() -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=2)


@pytest.fixture
def accounts(emulator, env):
    roles = {PROD: emulator.add_role("ecs-renewal-target", account_id=PROD),
             STAGING: emulator.add_role("ecs-renewal-target", account_id=STAGING)}
    env["ACCOUNTS"] = json.dumps([{"account_id": a, "role_arn": r, "name": n}
                                  for (a, r), n in zip(roles.items(), ("prod", "staging"), strict=True)])
    return roles


def test_each_account_is_worked_with_its_own_role_only(run, emulator, accounts):
    prod = emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=PROD)
    staging = emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=STAGING)
    own = emulator.add_instance("cn-hangzhou", expired_time=soon())  # the function's account: not a target
    result = run("renew-batch", {"dry_run": False})
    assert [(r["account_id"], r["instance_id"]) for r in result["renewed"]] == [(PROD, prod), (STAGING, staging)]
    assert emulator.renewal_count(own) == 0
    assert [a["account_id"] for a in result["accounts"]] == [PROD, STAGING] and all(a["ok"] for a in result["accounts"])
    # The emulator records which key called what: each account's calls carry that account's role only.
    for call in emulator.calls:
        if call.action == "AssumeRole":
            assert call.role_arn == emulator.default_role_arn  # signed with the function's own role session
        elif call.action == "RenewInstance":
            owner = PROD if call.params["InstanceId"] == prod else STAGING
            assert call.role_arn == accounts[owner]
    sessions = [c.params["RoleSessionName"] for c in emulator.calls if c.action == "AssumeRole"]
    assert len(sessions) == 2 and all(s.startswith("ecs-renewal-renew-batch-") for s in sessions)


def test_a_missing_role_fails_that_account_alone(run, emulator, env, accounts):
    ok = emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=STAGING)
    entries = json.loads(env["ACCOUNTS"])
    entries[0]["role_arn"] = f"acs:ram::{PROD}:role/does-not-exist"
    env["ACCOUNTS"] = json.dumps(entries)
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [ok]
    assert [(e["account_id"], e["code"]) for e in result["errors"]] == [(PROD, "EntityNotExist.Role")]
    assert [a["ok"] for a in result["accounts"]] == [False, True]


def test_the_event_narrows_accounts_and_bad_configuration_is_refused(run, emulator, env, accounts):
    emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=PROD)
    result = run("scan-expiring", {"accounts": [STAGING]})
    assert [a["account_id"] for a in result["accounts"]] == [STAGING] and result["count"] == 0
    with pytest.raises(InvalidEventError, match="accounts"):
        run("scan-expiring", {"accounts": ["3000000000000003"]})
    env["ASSUME_ROLE_ARN"] = emulator.default_role_arn
    with pytest.raises(InvalidSettingError, match="ACCOUNTS"):
        run("scan-expiring")


def fan_out_environment(emulator, env, accounts) -> None:
    env.update(REGIONS="cn-hangzhou,cn-shanghai,cn-beijing", SHARD_SIZE="2", FC_ENDPOINT=emulator.url)
    emulator.fc.environment = {key: env[key] for key in ("REGIONS", "ECS_ENDPOINT", "STS_ENDPOINT", "ACCOUNTS",
                                                         "SHARD_SIZE", "FC_ENDPOINT")}


def test_fan_out_dispatches_one_async_invocation_per_shard_and_shards_never_fan_out(run, emulator, env, accounts):
    fan_out_environment(emulator, env, accounts)
    expected = {emulator.add_instance(region, expired_time=soon(), account_id=account)
                for account in (PROD, STAGING) for region in ("cn-hangzhou", "cn-shanghai", "cn-beijing")}
    coordinator = run("renew-batch", {"dry_run": False}, request_id="coord-1")
    assert coordinator["coordinator"] is True, coordinator
    # 2 accounts x 3 regions = 6 account-regions, 2 a shard, one account a shard: 4 shards.
    assert [(s["account_id"], s["regions"], s["status"]) for s in coordinator["shards"]] == [
        (PROD, ["cn-hangzhou", "cn-shanghai"], "dispatched"), (PROD, ["cn-beijing"], "dispatched"),
        (STAGING, ["cn-hangzhou", "cn-shanghai"], "dispatched"), (STAGING, ["cn-beijing"], "dispatched")]
    assert "RenewInstance" not in [c.action for c in emulator.calls]  # the coordinator renews nothing itself
    assert emulator.fc.wait_idle(30)
    runs = emulator.fc.records("renew-batch")
    assert len(runs) == 4 and all(r.invocation_type == "Async" and r.error is None for r in runs)
    assert all("coordinator" not in r.result and r.result["shard"]["coordinator"] == "coord-1" for r in runs)
    renewed = {row["instance_id"] for r in runs for row in r.result["renewed"]}
    assert renewed == expected and all(emulator.renewal_count(i) == 1 for i in expected)


def test_fan_out_through_the_fc2_api_when_asked(run, emulator, env, accounts):
    fan_out_environment(emulator, env, accounts)
    env["FANOUT_API"] = emulator.fc.environment["FANOUT_API"] = "fc2"  # functions deployed as FC 2.0 services
    coordinator = run("scan-expiring", request_id="coord-2")
    assert [s["status"] for s in coordinator["shards"]] == ["dispatched"] * 4
    assert emulator.fc.wait_idle(30)
    assert {(r.api, r.service) for r in emulator.fc.records("scan-expiring")} == {("fc2", "default")}


@pytest.mark.parametrize("async_task", [True, False], ids=["asyncTask-on", "asyncTask-off"])
def test_a_reinvoked_coordinator_renews_nothing_twice(run, emulator, env, accounts, async_task):
    fan_out_environment(emulator, env, accounts)
    emulator.fc.async_task = async_task  # s.yaml turns it on: a repeated task id is refused with 409
    ids = {emulator.add_instance(region, expired_time=soon(), account_id=PROD)
           for region in ("cn-hangzhou", "cn-shanghai", "cn-beijing")}
    first = run("renew-batch", {"dry_run": False}, request_id="coord-1")
    second = run("renew-batch", {"dry_run": False}, request_id="coord-1")  # Function Compute's replay
    assert [s["task_id"] for s in first["shards"]] == [s["task_id"] for s in second["shards"]]
    assert all(s["status"] == "dispatched" for s in first["shards"] + second["shards"]) and not second["errors"]
    assert [s.get("duplicate", False) for s in second["shards"]] == [async_task] * len(first["shards"])
    assert emulator.fc.wait_idle(30)
    runs = emulator.fc.records("renew-batch")
    assert len(runs) == (1 if async_task else 2) * len(first["shards"]) and {r.api for r in runs} == {"fc3"}
    assert all(emulator.renewal_count(i) == 1 for i in ids)  # same instances, same expiry: same ClientTokens
