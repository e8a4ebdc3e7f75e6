"""Issue 14: what a person must act on reaches the group — broken configuration, missing permissions, failed
auto-renew deductions, low funds — and a quiet night says what it checked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecs_emulator.pricing import Resources
from ecs_renewal.errors import InvalidSettingError

NO_DESCRIBE = {"Version": "1", "Statement": [
    {"Effect": "Allow", "Action": ["ecs:DescribeRenewalPrice", "ecs:DescribeInstanceAutoRenewAttribute",
                                   "bss:DescribeAcccount"], "Resource": "*"}]}


def soon(days: float = 2) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def texts(robot) -> list[str]:
    return [message["markdown"]["text"] if "markdown" in message else message["text"]["content"]
            for message in robot.messages]


# ---- 1. configuration errors --------------------------------------------------------------------------------


def test_an_invalid_setting_raises_after_one_signed_message_naming_the_key(run, env, emulator, robot):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    env["WINDOW_DAYS"] = "0"
    with pytest.raises(InvalidSettingError, match="WINDOW_DAYS"):
        run("renew-batch")
    assert [c for c in emulator.calls if c.action != ""] == []  # before the first API call, as before
    assert len(robot.messages) == 1 and robot.rejected == []  # accepted: signed with the robot's secret
    text = texts(robot)[0]
    assert "WINDOW_DAYS" in text and "CONFIGURATION ERROR" in text and "Fix:" in text and "1 to 365" in text
    # Function Compute replays a failed async invocation: the group hears it once, not once per replay.
    for _ in range(2):
        with pytest.raises(InvalidSettingError):
            run("renew-batch", request_id="req-replay")
    assert len(robot.messages) == 1


def test_an_invalid_event_key_is_named_as_the_events(run, emulator, robot):
    with pytest.raises(InvalidSettingError):
        run("scan-expiring", {"window_days": "thirty"})
    assert len(robot.messages) == 1 and "`window_days`" in texts(robot)[0] and "event" in texts(robot)[0]


def test_without_a_robot_a_configuration_error_still_raises(run, env):
    env["WINDOW_DAYS"] = "0"
    with pytest.raises(InvalidSettingError, match="WINDOW_DAYS"):
        run("renew-batch")


# ---- 2. permissions -----------------------------------------------------------------------------------------


def test_a_role_without_describe_permission_is_an_error_and_an_alert_never_an_all_clear(run, emulator, robot):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    lacking = emulator.issue_credentials_with_policy(NO_DESCRIBE, name="ecs-renewal-no-describe")
    result = run("scan-expiring", credentials=lacking)
    assert result["expiring"] == [] and "all_clear" not in result
    assert [(e["region"], e["code"], e["missing_action"]) for e in result["errors"]] == [
        ("cn-hangzhou", "Forbidden.RAM", "ecs:DescribeInstances")]
    (text,) = texts(robot)
    assert "ecs:DescribeInstances" in text and "NOT checked" in text and "all clear" not in text
    dry_runs = [c for c in emulator.calls if c.action == "DescribeInstances" and c.params.get("DryRun") == "true"]
    assert len(dry_runs) == 1  # once per account-region and run


def test_renew_batch_without_describe_permission_reports_the_region_and_renews_nothing(run, emulator, robot):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    lacking = emulator.issue_credentials_with_policy(NO_DESCRIBE, name="ecs-renewal-no-describe")
    result = run("renew-batch", {"dry_run": False}, credentials=lacking)
    assert [e["code"] for e in result["errors"]] == ["Forbidden.RAM"] and result["renewed"] == []
    assert emulator.renewal_count(instance) == 0
    assert any("ecs:DescribeInstances" in text for text in texts(robot))


# ---- 3. the all-clear ---------------------------------------------------------------------------------------


def test_a_quiet_night_says_what_it_checked_in_one_line(run, env, emulator, robot):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    for region in ("cn-hangzhou", "cn-hangzhou", "cn-shanghai"):
        emulator.add_instance(region, expired_time=soon(days=60))  # prepaid, not in the window
    emulator.add_instance("cn-hangzhou", charge_type="PostPaid")
    result = run("scan-expiring", {"window_days": 30})
    assert result["all_clear"] == {"prepaid_instances": 3, "regions": 2, "accounts": 1, "window_days": 30}
    assert texts(robot) == ["ECS renewal · scan-expiring: all clear — 3 prepaid instances checked in 2 regions "
                            "(1 account), none expiring in 30 days"]


def test_the_all_clear_can_be_turned_off(run, env, emulator, robot):
    env["SCAN_ALL_CLEAR"] = "false"
    result = run("scan-expiring")
    assert result["all_clear"]["prepaid_instances"] == 0 and robot.messages == []


# ---- 4. failed auto-renew deductions ------------------------------------------------------------------------


def test_an_auto_renewing_instance_five_days_before_expiry_is_a_failed_deduction_at_the_top(run, emulator, robot):
    failed = emulator.add_instance("cn-hangzhou", expired_time=soon(days=5), renewal_status="AutoRenewal")
    emulator.add_instance("cn-hangzhou", expired_time=soon(days=1))  # more urgent, but nothing failed yet
    emulator.add_instance("cn-hangzhou", expired_time=soon(days=20), renewal_status="AutoRenewal")  # not yet due
    result = run("scan-expiring", {"window_days": 30})
    assert result["failed_deductions"] == 1
    assert [row["instance_id"] for row in result["expiring"] if row["deduction_failed"]] == [failed]
    text = texts(robot)[0]
    top = text.split("\n\n")[1]  # the first line under the title
    assert "auto-renew deduction failed — check the balance" in top.lower()
    assert text.index(failed) < text.index("Most urgent first")
    assert robot.messages[0]["markdown"]["title"].startswith("ECS renewal · scan-expiring: 1 auto-renew deduction")


def test_renew_batch_leaves_a_failed_deduction_to_the_platform_unless_told_and_then_renews_it_once(run, env, emulator):
    from ecs_renewal.idempotency import renewal_client_token

    failed = emulator.add_instance("cn-hangzhou", expired_time=soon(days=5), renewal_status="AutoRenewal")
    result = run("renew-batch", {"dry_run": False})
    assert result["failed_deductions"] == 1 and result["renewed"] == []
    (skip,) = result["skipped"]
    assert skip["instance_id"] == failed and "auto-renew deduction failed" in skip["reason"]
    env["RENEW_FAILED_AUTO_RENEW"] = "true"
    result = run("renew-batch", {"dry_run": False})
    (renewed,) = result["renewed"]
    expiry = emulator.instance(failed).renewals[0].old_expired_time
    assert renewed["client_token"] == renewal_client_token(failed, expiry, 1, "Month")  # as any renewal
    assert emulator.renewal_count(failed) == 1
    run("renew-batch", {"dry_run": False})  # a replay: the same token, never a second renewal
    assert emulator.renewal_count(failed) == 1


# ---- 5. funds -----------------------------------------------------------------------------------------------


# One shape for every instance: the forecast adds the prices the run quotes (cached per region, type and
# terms today; per-instance exact prices are issue 13's), and these tests are about the adding up.
SAME = Resources(system_disk_gib=40, data_disks_gib=(), bandwidth_mbps=0, image_monthly_cny=0.0)


def expiring_fleet(emulator):
    """Two instances to renew now, one auto-renewing whose deduction falls due in 3 days (expiry in 12)."""
    renew = [emulator.add_instance("cn-hangzhou", expired_time=soon(days=d), resources=SAME) for d in (1, 3)]
    auto = emulator.add_instance("cn-hangzhou", expired_time=soon(days=12), renewal_status="AutoRenewal",
                                 resources=SAME)
    planned = round(sum(emulator.renewal_price(i) for i in renew), 2)
    return renew, auto, planned, round(emulator.renewal_price(auto), 2)


def test_a_balance_below_the_next_nine_days_charges_is_alerted_before_renewing_and_nothing_is_renewed(
        run, emulator, robot):
    renew, _auto, planned, deduction = expiring_fleet(emulator)
    emulator.set_balance(planned + deduction - 0.01)  # enough for our renewals, not for the deduction too
    result = run("renew-batch", {"dry_run": False})
    short = result["funds_short"]
    assert (short["renewals"], short["deductions"], short["due"]) == (planned, deduction, round(planned + deduction, 2))
    assert short["renewal_count"] == 2 and short["deduction_count"] == 1 and short["short_by"] == 0.01
    assert result["renewed"] == [] and result["failed"] == [] and emulator.total_charged() == 0
    assert all(emulator.renewal_count(i) == 0 for i in renew)
    (text,) = [t for t in texts(robot) if "low funds" in t]
    assert "Nothing was renewed" in text and "auto-renew deductions due" in text.lower()


def test_cash_plus_credit_is_what_can_pay_and_the_credit_is_counted_once(run, emulator):
    renew, _, planned, deduction = expiring_fleet(emulator)
    due = planned + deduction
    # AvailableAmount already holds the credit in the emulator: a reader adding CreditAmount to it again
    # would see due + 10 and renew into a failure.
    emulator.set_balance(round(due / 2, 2))
    emulator.set_credit(round(due / 2 - 5, 2))
    result = run("renew-batch", {"dry_run": False})
    assert result["funds_short"]["short_by"] == pytest.approx(5, abs=0.02) and emulator.total_charged() == 0
    emulator.set_credit(round(due / 2 + 1, 2))
    result = run("renew-batch", {"dry_run": False})
    assert "funds_short" not in result and result["funds"]["spendable"] >= result["funds"]["due"]
    assert all(emulator.renewal_count(i) == 1 for i in renew) and result["failed"] == []


def test_an_unreadable_balance_is_an_error_and_the_renewals_go_on(run, emulator, robot):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    no_billing = emulator.issue_credentials_with_policy(
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:*", "Resource": "*"}]}, name="no-bss")
    result = run("renew-batch", {"dry_run": False}, credentials=no_billing)
    assert [(e["region"], e["code"]) for e in result["errors"]] == [("funds", "NoPermission")]
    assert "bss:DescribeAcccount" in result["errors"][0]["message"]
    assert emulator.renewal_count(instance) == 1  # an expiring server is the greater harm
    assert any("balance" in text and "bss:DescribeAcccount" in text for text in texts(robot))


def test_the_forecast_can_be_turned_off(run, env, emulator):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.set_balance(0)
    env["FUNDS_HORIZON_DAYS"] = "0"
    result = run("renew-batch", {"dry_run": False})
    assert "funds" not in result and not [c for c in emulator.calls if c.action == "QueryAccountBalance"]
    assert [f["code"] for f in result["failed"]] == ["InvalidAccountStatus.NotEnoughBalance"]  # as before
