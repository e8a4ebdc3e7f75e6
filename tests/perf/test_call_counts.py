"""The fewest API calls, counted exactly (by us in ``api_calls`` and by the emulator): never timed.

A list of n costs ceil(n/100) pages (an empty one still costs one call); auto-renew settings are read
100 ids a call, fixed 100 ids a call; renew-batch's re-check of what the owner chose costs one call per
100 candidates, never one per instance; the scan's price estimate is asked once per region, instance
type and period; renew-batch prices each planned instance on its own (what RenewInstance charges), and
the renewal ledger costs two TagResources per renewal and one read of its open entries per region.

Issue 14 adds, each a fixed cost, never one per instance: a scan region with nothing expiring counts its
prepaid instances (one page of one) for the all-clear, and a region with none at all proves the permission
to read it (DescribeInstances with DryRun, once); renew-batch reads the balance once (QueryAccountBalance)
and looks ahead for the auto-renew deductions due (the instances expiring before now + 9 + 9 days) in the
same DescribeInstances pages as its candidates: one read per region of the union of the two windows.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

LATER = datetime.now(timezone.utc) + timedelta(days=60)


def soon(n: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=1, minutes=n)


def emulator_calls(emulator) -> dict[str, int]:
    return dict(sorted(emulator.calls_by_action().items()))


@pytest.mark.parametrize("expiring", [0, 100, 250])
def test_scan_reads_ceil_n_over_100_pages(run, emulator, expiring):
    for n in range(expiring):
        emulator.add_instance("cn-hangzhou", expired_time=soon(n))
    emulator.add_instance("cn-hangzhou", expired_time=LATER)  # outside the window: not listed at all
    result = run("scan-expiring")
    assert result["count"] == expiring
    # The scan reads the owners' auto-renew choice (100 ids a call) and one price per instance type.
    details = {"DescribeInstanceAutoRenewAttribute": math.ceil(expiring / 100), "DescribeRenewalPrice": 1}
    # Nothing expiring: one more page (of one) counts what was checked, for the all-clear line.
    assert result["api_calls"] == {"DescribeInstances": math.ceil(expiring / 100) if expiring else 1 + 1,
                                   **(details if expiring else {})}
    assert emulator_calls(emulator) == result["api_calls"]


def test_scan_costs_one_page_per_region_in_parallel(run, env, emulator):
    regions = ("cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1")
    env["REGIONS"] = ",".join(regions)
    for region in regions:
        emulator.add_instance(region, expired_time=soon(1))
    result = run("scan-expiring")
    assert result["count"] == 4 and result["api_calls"] == {
        "DescribeInstances": 4, "DescribeInstanceAutoRenewAttribute": 4, "DescribeRenewalPrice": 4}


def test_audit_reads_attributes_in_pages_of_100_and_fixes_in_groups_of_100(run, emulator):
    drifted = {emulator.add_instance("cn-hangzhou", expired_time=LATER) for _ in range(150)}
    for _ in range(100):
        emulator.add_instance("cn-hangzhou", expired_time=LATER, auto_renew_enabled=True, duration=1)
    result = run("audit-autorenew", {"fix": True, "dry_run": False})
    assert {row["instance_id"] for row in result["fixed"]} == drifted
    # 250 prepaid: 3 pages, 3 attribute reads of ≤100 ids; 150 drifted: 2 fixes of ≤100 ids.
    assert result["api_calls"] == {
        "DescribeInstanceAutoRenewAttribute": 3, "DescribeInstances": 3, "ModifyInstanceAutoRenewAttribute": 2,
    }
    assert emulator_calls(emulator) == result["api_calls"]
    groups = [c.params["InstanceId"].split(",") for c in emulator.calls
              if c.action == "ModifyInstanceAutoRenewAttribute"]
    assert sorted(len(group) for group in groups) == [50, 100]  # a full group first, the rest at the end


def test_renew_rechecks_owner_choices_per_100_not_per_instance(run, emulator):
    ids = {emulator.add_instance("cn-hangzhou", expired_time=soon(n)) for n in range(150)}
    result = run("renew-batch", {"dry_run": False, "max_instances": 1000})
    assert {row["instance_id"] for row in result["renewed"]} == ids
    # 2 pages of candidates, 2 auto-renew reads of ≤100 ids, one read of the ledger's open entries (none
    # yet), then per instance its own price, the ledger's intent, one RenewInstance and the outcome — no
    # DescribeInstances per instance before renewing it (the documented sample's pattern). The funds
    # forecast: one balance read; its look ahead shares the candidates' 2 pages (one read of the union
    # window, issue 12) and every instance is planned: nothing more.
    assert result["api_calls"] == {
        "DescribeInstanceAutoRenewAttribute": 2, "DescribeInstances": 2 + 1, "DescribeRenewalPrice": 150,
        "QueryAccountBalance": 1, "RenewInstance": 150, "TagResources": 300,
    }
    assert emulator_calls(emulator) == result["api_calls"]


def test_renew_reads_its_window_and_the_funds_look_ahead_in_one_pass_per_region(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    for region in ("cn-hangzhou", "cn-shanghai"):
        emulator.add_instance(region, expired_time=soon(1))  # renewed
        # Outside the renew window, its deduction (expiry - 9 days) due in 3 days: forecast, not renewed.
        emulator.add_instance(region, expired_time=soon(12 * 24 * 60), renewal_status="AutoRenewal",
                              auto_renew_enabled=True, duration=1)
        emulator.add_instance(region, expired_time=LATER)  # beyond both windows
    result = run("renew-batch", {"dry_run": False})
    assert len(result["renewed"]) == 2 and result["funds"]["deduction_count"] == 2
    # One page per region of the union window, split locally (+ the ledger's open entries, one read a
    # region); the look ahead's settings one read a region; the ledger's intent and outcome per renewal.
    assert result["api_calls"] == {
        "DescribeInstanceAutoRenewAttribute": 2 + 2, "DescribeInstances": 2 + 2, "DescribeRenewalPrice": 2 + 2,
        "QueryAccountBalance": 1, "RenewInstance": 2, "TagResources": 4,
    }
    assert emulator_calls(emulator) == result["api_calls"]
    # Both reads ask the same union: from the window's start to past its end (now + 9 + 9 + 1 days).
    windows = [c.params for c in emulator.calls if c.action == "DescribeInstances" and "Filter.3.Value" in c.params]
    asked = {(p["Filter.3.Value"], p["Filter.4.Value"]) for p in windows}
    assert len(windows) == 2 and len(asked) == 1
    (start, end), = asked
    assert start == result["window"]["start"] and end > result["window"]["end"]
