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
    # ceil(250 / 100) pages, no more: the API's maximum page size is used.
    assert result["api_calls"] == {"DescribeInstances": 3}
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
