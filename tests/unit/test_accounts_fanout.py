"""Target accounts from the environment, and the fan-out plan (pure functions)."""

from __future__ import annotations

import json

import pytest

from ecs_renewal.accounts import Account, load_accounts, narrow
from ecs_renewal.errors import InvalidEventError, InvalidSettingError
from ecs_renewal.fanout import async_task_id, dispatch, needs_fan_out, plan_shards, shard_event

A = {"account_id": "1111111111111111", "role_arn": "acs:ram::1111111111111111:role/ecs-renewal", "name": "prod"}
B = {"account_id": "2222222222222222", "role_arn": "acs:ram::2222222222222222:role/ecs-renewal"}


def test_no_accounts_means_the_functions_own_account():
    assert load_accounts({}) is None


def test_accounts_from_environment_and_file(tmp_path):
    assert load_accounts({"ACCOUNTS": json.dumps([A, B])}) == (
        Account(A["account_id"], A["role_arn"], "prod"), Account(B["account_id"], B["role_arn"]))
    (tmp_path / "accounts.json").write_text(json.dumps([B]))
    assert load_accounts({"ACCOUNTS_FILE": "accounts.json"}, code_root=tmp_path)[0].account_id == B["account_id"]


@pytest.mark.parametrize(
    "value",
    ["not json", "[]", "{}", json.dumps([{**A, "role_arn": "acs:ram::999999:role/x"}]), json.dumps([A, A]),
     json.dumps([{**A, "account_id": 1111111111111111}]), json.dumps([{**A, "extra": 1}])],
)
def test_bad_accounts_are_refused_naming_the_variable(value):
    with pytest.raises(InvalidSettingError, match="ACCOUNTS"):
        load_accounts({"ACCOUNTS": value})


def test_event_narrows_to_configured_accounts_only():
    configured = load_accounts({"ACCOUNTS": json.dumps([A, B])})
    assert [a.account_id for a in narrow(configured, (B["account_id"],))] == [B["account_id"]]
    with pytest.raises(InvalidEventError, match="accounts"):
        narrow(configured, ("3333333333333333",))
    with pytest.raises(InvalidEventError, match="accounts"):
        narrow(None, (A["account_id"],))


def test_plan_is_one_account_per_shard_and_deterministic():
    accounts = load_accounts({"ACCOUNTS": json.dumps([A, B])})
    regions = ["cn-hangzhou", "cn-shanghai", "cn-beijing"]
    shards = plan_shards(accounts, regions, 2)
    assert [(s.account_id, s.regions) for s in shards] == [
        (A["account_id"], ("cn-hangzhou", "cn-shanghai")), (A["account_id"], ("cn-beijing",)),
        (B["account_id"], ("cn-hangzhou", "cn-shanghai")), (B["account_id"], ("cn-beijing",))]
    assert [s.index for s in shards] == [1, 2, 3, 4] and {s.of for s in shards} == {4}
    assert plan_shards(accounts, regions, 2) == shards
    assert needs_fan_out(accounts, regions, 5) and not needs_fan_out(None, regions, 3)


def test_shard_events_are_marked_narrowed_and_byte_identical_on_a_retry():
    shard = plan_shards(None, ["cn-hangzhou", "cn-beijing"], 1)[1]
    event = json.loads(shard_event({"dry_run": False, "regions": ["x"], "window_days": 3}, shard, "req-1"))
    assert event == {"dry_run": False, "window_days": 3, "regions": ["cn-beijing"],
                     "shard": {"index": 2, "of": 2, "coordinator": "req-1"}}
    first = shard_event({"window_days": 3, "dry_run": False}, shard, "req-1")
    assert first == shard_event({"dry_run": False, "window_days": 3}, shard, "req-1")
    assert async_task_id("renew-batch", first) == async_task_id("renew-batch", first)
    # Pinned: the same bytes in any process, on any day (tests/unit/test_idempotency_and_retry.py compares
    # interpreters with different hash seeds). printf '%s' '<event>' | sha256sum | cut -c1-32
    assert first == (b'{"dry_run":false,"regions":["cn-beijing"],"shard":{"coordinator":"req-1","index":2,"of":2},'
                     b'"window_days":3}')
    assert async_task_id("renew-batch", first) == "renew-batch-4120b8bbad292b823c30c45f6e0a67bb"


def test_a_failed_dispatch_is_reported_and_the_rest_go_out():
    sent = []

    def invoke(function, payload, task_id):
        if b'"index":1' in payload:
            raise RuntimeError("boom")
        sent.append(task_id)
        return f"req-{len(sent)}"

    shards = plan_shards(None, ["cn-hangzhou", "cn-beijing", "cn-shanghai"], 1)
    report = dispatch("scan-expiring", {}, shards, "coord", invoke)
    assert [r["status"] for r in report] == ["failed", "dispatched", "dispatched"]
    assert report[0]["code"] == "RuntimeError" and len(sent) == 2


def test_a_refused_duplicate_task_id_counts_as_dispatched():
    class Duplicate(Exception):
        duplicate = True
        request_id = "req-409"

    def invoke(function, payload, task_id):
        raise Duplicate("409 AsyncTaskAlreadyExists")

    (entry,) = dispatch("renew-batch", {}, plan_shards(None, ["cn-hangzhou"], 1), "coord", invoke)
    assert (entry["status"], entry["duplicate"], entry["request_id"]) == ("dispatched", True, "req-409")
