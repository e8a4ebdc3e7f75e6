"""renew-batch against the emulator: dry run, exactly once, the cap, tag policy, per-instance failures."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

MUTATING = {"RenewInstance", "ModifyInstanceAutoRenewAttribute"}


def soon(days: float = 2) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def actions(emulator) -> list[str]:
    return [call.action for call in emulator.calls]


def test_dry_run_is_the_default_and_changes_nothing(run, emulator):
    ids = {emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3)}
    result = run("renew-batch")
    assert result["dry_run"] is True
    assert {row["instance_id"] for row in result["renewed"]} == ids
    assert all(row["order_id"] is None for row in result["renewed"])
    assert not MUTATING.intersection(actions(emulator))
    assert all(emulator.renewal_count(i) == 0 for i in ids)


def test_real_run_renews_each_once_and_logs_order_ids(run, emulator, log_lines):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    result = run("renew-batch", {"dry_run": False, "period": 2})
    assert [row["instance_id"] for row in result["renewed"]] == ids
    assert all(row["order_id"] for row in result["renewed"])
    assert result["failed"] == [] and result["errors"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    for row in result["renewed"]:
        assert row["order_id"] in log_lines.getvalue()
    calls = [c for c in emulator.calls if c.action == "RenewInstance"]
    assert {c.params["Period"] for c in calls} == {"2"} and {c.params["PeriodUnit"] for c in calls} == {"Month"}
    assert all(c.params.get("ClientToken") for c in calls)


def test_reinvocation_inside_the_visibility_delay_renews_nothing_twice(run, emulator):
    """Function Compute replays a failed async invocation; the new expiry is not visible yet."""
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(5))
    first = run("renew-batch", {"dry_run": False})
    second = run("renew-batch", {"dry_run": False})  # immediately: DescribeInstances still shows the old expiry
    # The renewal ledger (the instances' tags) says what the first run did: no second RenewInstance at all.
    assert second["renewed"] == [] and "RenewInstance" not in second["api_calls"]
    assert [r["ledger"]["order_id"] for r in second["skipped"]] == [r["order_id"] for r in first["renewed"]]
    assert all("not visible yet" in r["reason"] for r in second["skipped"])
    assert all(emulator.renewal_count(i) == 1 for i in ids)

    time.sleep(1.2)  # past the emulator's visibility delay: the new expiry is out of the window
    third = run("renew-batch", {"dry_run": False})
    assert third["renewed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)


def test_cap_exceeded_renews_nothing_and_says_so(run, emulator):
    for _ in range(4):
        emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch", {"dry_run": False, "max_instances": 3})
    assert result["renewed"] == []
    assert result["cap_exceeded"] == {"candidates": 4, "max_instances": 3}
    assert "RenewInstance" not in actions(emulator)


def test_include_and_exclude_tags(run, env, emulator):
    env["RENEW_INCLUDE_TAG"] = "env=prod"
    prod = emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"env": "prod"})
    manual = emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"env": "prod", "renewal": "manual"})
    dev = emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"env": "dev"})
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [prod]
    reasons = {r["instance_id"]: r["reason"] for r in result["skipped"]}
    assert reasons == {manual: "excluded by tag renewal=manual", dev: "not tagged env=prod"}
    assert emulator.renewal_count(manual) == 0 and emulator.renewal_count(dev) == 0


def test_instance_ids_select_exactly_those_and_skip_pay_as_you_go(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    far = emulator.add_instance("cn-shanghai", expired_time=soon(200))  # outside any window: asked for by id
    postpaid = emulator.add_instance("cn-hangzhou", expired_time=soon(), charge_type="PostPaid")
    emulator.add_instance("cn-hangzhou", expired_time=soon())  # not named: not touched
    result = run("renew-batch", {"dry_run": False, "instance_ids": [far, postpaid, "i-bp1doesnotexist00"]})
    assert [r["instance_id"] for r in result["renewed"]] == [far]
    assert [r["instance_id"] for r in result["skipped"]] == [postpaid]
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [
        ("i-bp1doesnotexist00", "InvalidInstanceId.NotFound")
    ]
    assert "window" not in result


def test_one_failure_does_not_stop_the_others(run, emulator):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    emulator.faults.add(action="RenewInstance", kind="error", status=403,
                        code="InvalidAccountStatus.NotEnoughBalance", instance_id=ids[1], times=None)
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [ids[0], ids[2]]
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [
        (ids[1], "InvalidAccountStatus.NotEnoughBalance")
    ]
    # Not retryable: exactly one attempt for the failing instance.
    assert sum(1 for c in emulator.calls if c.params.get("InstanceId") == ids[1]) == 1


def test_applied_then_500_is_retried_with_the_same_token_and_renews_once(run, emulator):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.faults.add(action="RenewInstance", kind="apply_then_error", status=500, code="InternalError", times=1)
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [instance]
    assert emulator.renewal_count(instance) == 1
    tokens = [c.params["ClientToken"] for c in emulator.calls if c.action == "RenewInstance"]
    assert len(tokens) == 2 and len(set(tokens)) == 1


def test_owner_choices_are_respected(run, env, emulator):
    let_go = emulator.add_instance("cn-hangzhou", expired_time=soon(), renewal_status="NotRenewal")
    auto = emulator.add_instance("cn-hangzhou", expired_time=soon(), auto_renew_enabled=True, duration=1,
                                 renewal_status="AutoRenewal")
    normal = emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [normal]
    assert {s["instance_id"] for s in result["skipped"]} == {let_go, auto}
    assert result["failed"] == []

    env["RENEW_AUTO_RENEWING"] = "true"  # the operator's deliberate choice: renew those too
    result = run("renew-batch", {"dry_run": False})
    assert auto in [r["instance_id"] for r in result["renewed"]]
    assert emulator.renewal_count(let_go) == 0
