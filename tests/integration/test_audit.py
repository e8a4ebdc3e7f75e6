"""audit-autorenew against the emulator: drift, fix in ≤100-id batches, owners' choices respected."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

LATER = datetime.now(timezone.utc) + timedelta(days=60)


def count(emulator, action: str) -> int:
    return sum(1 for call in emulator.calls if call.action == action)


def test_drift_fix_and_no_drift_after(run, emulator):
    drifted = {emulator.add_instance("cn-hangzhou", expired_time=LATER) for _ in range(150)}
    wrong_duration = emulator.add_instance("cn-hangzhou", expired_time=LATER, auto_renew_enabled=True,
                                           duration=3, renewal_status="AutoRenewal")
    fine = {emulator.add_instance("cn-hangzhou", expired_time=LATER, auto_renew_enabled=True, duration=1,
                                  renewal_status="AutoRenewal") for _ in range(20)}
    emulator.add_instance("cn-hangzhou", expired_time=LATER, charge_type="PostPaid")  # never sent to the API

    report = run("audit-autorenew")
    assert {row["instance_id"] for row in report["drift"]} == drifted | {wrong_duration}
    assert report["fixed"] == [] and count(emulator, "ModifyInstanceAutoRenewAttribute") == 0
    # 171 prepaid ids → two DescribeInstanceAutoRenewAttribute calls (≤100 ids each), not one per instance.
    assert count(emulator, "DescribeInstanceAutoRenewAttribute") == 2
    assert fine.isdisjoint(row["instance_id"] for row in report["drift"])

    emulator.reset_calls()
    fixed = run("audit-autorenew", {"fix": True, "dry_run": False})
    assert {row["instance_id"] for row in fixed["fixed"]} == drifted | {wrong_duration}
    assert fixed["failed"] == []
    # 151 ids with the same target → two calls of ≤100 ids.
    modify = [c for c in emulator.calls if c.action == "ModifyInstanceAutoRenewAttribute"]
    assert len(modify) == 2
    assert all(len(c.params["InstanceId"].split(",")) <= 100 for c in modify)

    again = run("audit-autorenew")
    assert again["drift"] == []


def test_fix_in_a_dry_run_changes_nothing(run, emulator):
    emulator.add_instance("cn-hangzhou", expired_time=LATER)
    result = run("audit-autorenew", {"fix": True})  # dry_run defaults to true
    assert len(result["drift"]) == 1 and result["fixed"] == []
    assert count(emulator, "ModifyInstanceAutoRenewAttribute") == 0


def test_owner_choices_are_not_overridden(run, emulator):
    let_go = emulator.add_instance("cn-hangzhou", expired_time=LATER, renewal_status="NotRenewal")
    manual = emulator.add_instance("cn-hangzhou", expired_time=LATER, tags={"renewal": "manual"})
    result = run("audit-autorenew", {"fix": True, "dry_run": False})
    assert result["drift"] == [] and result["fixed"] == []
    assert {row["instance_id"] for row in result["skipped"]} == {let_go, manual}


def test_expected_off_turns_auto_renew_off(run, emulator):
    on = emulator.add_instance("cn-hangzhou", expired_time=LATER, auto_renew_enabled=True, duration=1,
                               renewal_status="AutoRenewal")
    result = run("audit-autorenew", {"expected_auto_renew": False, "fix": True, "dry_run": False})
    assert [row["instance_id"] for row in result["fixed"]] == [on]
    assert run("audit-autorenew", {"expected_auto_renew": False})["drift"] == []


def test_instance_ids_narrow_the_audit(run, emulator):
    target = emulator.add_instance("cn-hangzhou", expired_time=LATER)
    emulator.add_instance("cn-hangzhou", expired_time=LATER)
    result = run("audit-autorenew", {"instance_ids": [target]})
    assert [row["instance_id"] for row in result["drift"]] == [target]
