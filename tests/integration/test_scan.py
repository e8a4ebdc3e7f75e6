"""scan-expiring against the emulator: every page, every region, the window's edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

WINDOW = {"expired_start": "2030-01-10T00:00Z", "expired_end": "2030-01-17T00:00Z"}
START = datetime(2030, 1, 10, tzinfo=timezone.utc)
END = datetime(2030, 1, 17, tzinfo=timezone.utc)


def test_reads_every_page_past_100(run, emulator):
    for n in range(250):
        emulator.add_instance("cn-hangzhou", expired_time=START + timedelta(hours=n % 100 + 1))
    result = run("scan-expiring", WINDOW)
    assert result["count"] == 250 and len(result["expiring"]) == 250
    assert len({row["instance_id"] for row in result["expiring"]}) == 250
    # ceil(250 / 100) pages, no more: the API's maximum page size is used. The auto-renew status is read
    # 100 ids a call, and one price serves every instance of a type.
    assert result["api_calls"] == {"DescribeInstances": 3, "DescribeInstanceAutoRenewAttribute": 3,
                                   "DescribeRenewalPrice": 1}
    assert result["errors"] == []


def test_several_regions_and_only_prepaid(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai,ap-southeast-1"
    expected = set()
    for region in ("cn-hangzhou", "cn-shanghai", "ap-southeast-1"):
        expected.add(emulator.add_instance(region, expired_time=START + timedelta(days=1)))
        emulator.add_instance(region, expired_time=START + timedelta(days=1), charge_type="PostPaid")
    result = run("scan-expiring", WINDOW)
    assert {row["instance_id"] for row in result["expiring"]} == expected
    assert result["regions"] == ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
    assert result["window"] == {"start": "2030-01-10T00:00Z", "end": "2030-01-17T00:00Z"}


def test_window_edges_are_inclusive_to_the_minute(run, emulator):
    inside = {
        emulator.add_instance("cn-hangzhou", name="at-start", expired_time=START),
        emulator.add_instance("cn-hangzhou", name="at-end", expired_time=END),
    }
    emulator.add_instance("cn-hangzhou", name="before", expired_time=START - timedelta(minutes=1))
    emulator.add_instance("cn-hangzhou", name="after", expired_time=END + timedelta(minutes=1))
    result = run("scan-expiring", WINDOW)
    assert {row["instance_id"] for row in result["expiring"]} == inside
    row = next(r for r in result["expiring"] if r["instance_name"] == "at-start")
    assert row["expired_time"] == "2030-01-10T00:00Z" and row["region"] == "cn-hangzhou"
    assert set(row) >= {"instance_id", "instance_name", "region", "expired_time", "status"}


def test_window_days_counts_from_now(run, emulator):
    now = datetime.now(timezone.utc)
    soon = emulator.add_instance("cn-hangzhou", expired_time=now + timedelta(days=2))
    emulator.add_instance("cn-hangzhou", expired_time=now + timedelta(days=9))
    result = run("scan-expiring", {"window_days": 7})
    assert [row["instance_id"] for row in result["expiring"]] == [soon]


def test_results_are_sorted_by_expiry_then_region(run, env, emulator):
    env["REGIONS"] = "cn-shanghai,cn-hangzhou"
    late = emulator.add_instance("cn-hangzhou", expired_time=START + timedelta(days=3))
    early = emulator.add_instance("cn-shanghai", expired_time=START + timedelta(days=1))
    result = run("scan-expiring", WINDOW)
    assert [row["instance_id"] for row in result["expiring"]] == [early, late]


def test_rows_carry_tier_owner_auto_renew_price_and_the_run_its_cost(run, env, emulator):
    env["ALERT_TIMEZONE"] = "Asia/Shanghai"
    now = datetime.now(timezone.utc)
    urgent = emulator.add_instance("cn-hangzhou", expired_time=now + timedelta(hours=20), tags={"owner": "13800138000"},
                                   instance_type="ecs.g7.large")
    weekly = emulator.add_instance("cn-hangzhou", expired_time=now + timedelta(days=7), auto_renew_enabled=True,
                                   duration=1, renewal_status="AutoRenewal", instance_type="ecs.g7.large")
    weekly_row_expiry = emulator.instance(weekly).visible_expired_time
    result = run("scan-expiring", {"window_days": 7})
    rows = {row["instance_id"]: row for row in result["expiring"]}
    assert (rows[urgent]["tier"], rows[urgent]["owner"], rows[urgent]["auto_renew"]) == (1, "13800138000", "Normal")
    assert rows[weekly]["tier"] == 7 and rows[weekly]["auto_renew"] == "AutoRenewal"
    assert rows[urgent]["expires_local"].endswith("CST") and weekly_row_expiry
    assert rows[urgent]["price"] == rows[weekly]["price"] and rows[urgent]["currency"] == "CNY"
    assert result["estimated_cost"]["amount"] == round(2 * rows[urgent]["price"], 2)
    assert result["api_calls"]["DescribeRenewalPrice"] == 1  # same region, type and terms: one question


def test_the_digest_mentions_owners_and_is_not_repeated_the_same_day(run, env, emulator):
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    now = datetime.now(timezone.utc)
    emulator.add_instance("cn-hangzhou", expired_time=now + timedelta(days=2), tags={"owner": "13800138000"})
    first = run("scan-expiring")
    assert first["alerts"]["sent"] == 1
    message = emulator.dingtalk.messages[0]
    assert message["at"]["atMobiles"] == ["13800138000"] and "@13800138000" in message["markdown"]["text"]
    again = run("scan-expiring")  # a replay, or a re-run by hand: the same reminder is not sent twice
    assert again["alerts"] == {"messages": 0, "sent": 0, "already_reported": 1}
    assert len(emulator.dingtalk.messages) == 1
