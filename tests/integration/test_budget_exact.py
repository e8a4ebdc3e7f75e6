"""Issue 13's budget ceiling against the emulator's per-instance prices (pricing.py).

Ten instances of one type, each priced apart by its disks and its paid Marketplace image (quoted in
``RelatedPrice.MarketplaceImagePrice``, charged by RenewInstance on top of ``Price.TradePrice``). The
emulator records what it charged (``emulator.total_charged()``): a budget is a ceiling on that.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecs_emulator.pricing import Resources


def _ten_instances_of_one_type(emulator) -> list[str]:
    expiry = datetime.now(timezone.utc) + timedelta(days=2)
    return [
        emulator.add_instance(
            "cn-hangzhou", expired_time=expiry, instance_type="ecs.g7.large",
            resources=Resources(system_disk_gib=40, data_disks_gib=(n + 1,), bandwidth_mbps=0,
                                image_monthly_cny=99.0 + n),
        )
        for n in range(10)
    ]  # fmt: skip


def _true_total(emulator, ids: list[str]) -> float:
    return round(sum(emulator.renewal_price(i, 1) for i in ids), 2)


def test_the_ten_prices_differ(emulator):
    ids = _ten_instances_of_one_type(emulator)
    assert len({emulator.renewal_price(i, 1) for i in ids}) == 10


def test_a_budget_one_above_the_true_total_renews_all_ten_once(run, emulator):
    ids = _ten_instances_of_one_type(emulator)
    total = _true_total(emulator, ids)
    result = run("renew-batch", {"dry_run": False, "max_cost": total + 1})
    assert sorted(row["instance_id"] for row in result["renewed"]) == sorted(ids)
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert emulator.total_charged() == pytest.approx(total)


def test_a_budget_one_below_the_true_total_is_never_exceeded(run, emulator):
    ids = _ten_instances_of_one_type(emulator)
    max_cost = _true_total(emulator, ids) - 1
    run("renew-batch", {"dry_run": False, "max_cost": max_cost})
    assert emulator.total_charged() <= max_cost
