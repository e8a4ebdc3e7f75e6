"""Messages built from REAL job results (the job run against the emulator, then rendered), never from
hand-made shapes no job produces: that is how the renew headline lost its period unnoticed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.cli.output import exit_status
from ecs_renewal.notify.messages import messages_for_result
from tests.builders import typed

PROD, STAGING = "2000000000000001", "2000000000000002"


def soon(hours: int = 48) -> datetime:
    return datetime.now(timezone.utc) + timedelta(hours=hours)


def sent(robot) -> list[dict]:
    return list(robot.messages)


def run_record(log_lines) -> dict:
    records = [json.loads(line) for line in log_lines.getvalue().splitlines() if line.startswith("{")]
    return next(r for r in records if r["event"] == "job_finished")


@pytest.mark.parametrize(("event", "length"), [({}, "for 1 month"), ({"period": 2}, "for 2 months"),
                                               ({"period": 1, "period_unit": "Week", "window_days": 3},
                                                "for 1 week")])
def test_the_renew_headline_states_the_period(run, emulator, robot, event, length):
    for _ in range(2):
        emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch", {"dry_run": False, **event})
    assert len(result["renewed"]) == 2
    [message] = messages_for_result(typed(result))
    assert f"Renewed 2 instances {length}" in message.text
    assert f"Renewed 2 instances {length}" in sent(robot)[0]["markdown"]["text"]  # what the group got


def test_a_dry_run_headline_states_the_period_too(run, emulator):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    [message] = messages_for_result(typed(run("renew-batch", {"period": 3})))
    assert "DRY RUN: would renew 1 instance for 3 months" in message.text


def test_a_capped_run_lists_the_selected_candidates_in_one_message(run, env, emulator, robot):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    ids = sorted(emulator.add_instance(region, expired_time=soon(20 + n))
                 for n, region in enumerate(["cn-hangzhou", "cn-shanghai", "cn-hangzhou"]))
    result = run("renew-batch", {"dry_run": False, "max_instances": 2})
    assert result["cap_exceeded"] == {"candidates": 3, "max_instances": 2}
    assert sorted(row["instance_id"] for row in result["selected"]) == ids
    [message] = sent(robot)
    text = message["markdown"]["text"]
    for row in result["selected"]:  # id, region, expiry, and the price (not asked: the cap came first)
        assert f"- {row['instance_id']} · {row['region']} · expiry {row['expired_time']} · 1 month" in text
    assert "price not asked" in text


def test_the_cap_line_of_a_real_capped_run_comes_from_its_typed_cap(run, emulator, robot):
    """The alert is rendered from the typed result (RenewResult.plan.cap, a CapExceeded): it names
    ``max_instances`` and the candidates, and says exactly what the contract's dict, read back, says."""
    for hours in (20, 30, 40):
        emulator.add_instance("cn-hangzhou", expired_time=soon(hours))
    result = run("renew-batch", {"dry_run": False, "max_instances": 2})
    assert result["cap_exceeded"] == {"candidates": 3, "max_instances": 2} and result["renewed"] == []
    [message] = sent(robot)  # notify/alerts.py passed the typed result
    text = message["markdown"]["text"]
    assert "Nothing was renewed: 3 instances are due, more than the safety cap of 2" in text
    assert "run once with `max_instances` >= 3 in the event" in text
    assert "NOTHING renewed, 3 due > cap 2" in message["markdown"]["title"]
    [from_dict] = messages_for_result(typed(result))  # the dict read back (contract.from_contract), typed again
    assert (from_dict.title, from_dict.text) == (message["markdown"]["title"], text)


def test_a_real_over_budget_run_says_the_same_from_the_typed_budget(run, emulator, robot):
    for _ in range(2):
        emulator.add_instance("cn-hangzhou", expired_time=soon())
    result = run("renew-batch", {"dry_run": False, "max_cost": 1})
    budget = result["budget_exceeded"]
    [message] = sent(robot)
    text = message["markdown"]["text"]
    assert f"is over the budget of 1.00 {budget['currency']}" in text
    assert f"estimated {budget['amount']:,.2f}" in text
    [from_dict] = messages_for_result(typed(result))
    assert (from_dict.title, from_dict.text) == (message["markdown"]["title"], text)


def test_a_run_over_budget_lists_the_candidates_with_their_prices(run, emulator, robot):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2))
    result = run("renew-batch", {"dry_run": False, "max_cost": 1})
    assert result["renewed"] == [] and result["budget_exceeded"]["max_cost"] == 1
    [message] = sent(robot)
    for row in result["selected"]:
        assert row["instance_id"] in ids and row["price"] is not None
        assert f"{row['price']:,.2f} {row['currency']}" in message["markdown"]["text"]


def test_sixty_drifted_instances_are_one_digest(run, env, emulator, robot):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    later = soon(24 * 60)
    ids = {emulator.add_instance(region, expired_time=later) for region in ("cn-hangzhou", "cn-shanghai")
           for _ in range(30)}
    result = run("audit-autorenew", {"fix": True, "dry_run": False})
    assert len(result["drift"]) == 60 and result["alerts"] == {"messages": 1, "sent": 1}
    [message] = sent(robot)
    assert "part" not in message["markdown"]["title"]
    assert all(instance_id in message["markdown"]["text"] for instance_id in ids)


def test_a_numeric_dingtalk_user_id_is_not_sent_as_a_mobile(run, emulator, robot):
    emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"owner": "13800138000"})
    emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"owner": "0123456789"})  # a DingTalk userId
    result = run("scan-expiring")
    assert {(row["owner"], row["owner_kind"]) for row in result["expiring"]} == {
        ("13800138000", "mobile"), ("0123456789", "user_id")}
    [message] = sent(robot)
    assert message["at"]["atMobiles"] == ["13800138000"]
    assert message["at"]["atUserIds"] == ["0123456789"]


@pytest.fixture
def accounts(emulator, env):
    roles = [(account, emulator.add_role("ecs-renewal-target", account_id=account)) for account in (PROD, STAGING)]
    env["ACCOUNTS"] = json.dumps([{"account_id": a, "role_arn": r} for a, r in roles])


def test_a_multi_account_run_stopped_by_the_cap_fails_and_records_the_cap(run, emulator, accounts, log_lines):
    for _ in range(3):
        emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=PROD)
    emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=STAGING)
    result = run("renew-batch", {"dry_run": False, "max_instances": 2})
    assert [row["account_id"] for row in result["renewed"]] == [STAGING]  # the other account is not held back
    assert result["cap_exceeded"] == {"candidates": 3, "max_instances": 2, "accounts": [PROD]}
    assert exit_status(typed(result)) == 1  # as a single account does
    record = run_record(log_lines)
    assert record["cap_exceeded"] == {"candidates": 3, "max_instances": 2}


def test_a_multi_account_run_over_budget_fails_and_records_the_cost(run, emulator, accounts, log_lines):
    emulator.add_instance("cn-hangzhou", expired_time=soon(), account_id=PROD)
    result = run("renew-batch", {"dry_run": False, "max_cost": 1})
    assert result["budget_exceeded"]["accounts"] == [PROD]
    assert exit_status(typed(result)) == 1
    record = run_record(log_lines)
    assert record["budget_exceeded"]["max_cost"] == 1 and "estimated_cost" in record
