"""Promise 3 — the cap holds: more candidates than ``max_instances`` renews nothing, alerts, says how to go on.

Mechanism: ``jobs/renew.run`` counts the selected instances of every region before the first renewal.
"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import MUTATING, log_records, soon

pytestmark = pytest.mark.promise(3)
REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing")


def fleet(emulator, per_region: int) -> list[str]:
    return sorted(
        emulator.add_instance(region, expired_time=soon()) for region in REGIONS for _ in range(per_region)
    )


def test_one_over_the_cap_across_regions_renews_nothing_alerts_and_says_how(run, env, emulator, dingtalk,
                                                                             log_lines):
    env["REGIONS"] = ",".join(REGIONS)
    ids = fleet(emulator, 2)  # 6 candidates, 2 per region: no single region is over the cap
    result = run("renew-batch", {"dry_run": False, "max_instances": 5})

    assert result["renewed"] == [] and result["failed"] == []
    assert result["cap_exceeded"] == {"candidates": 6, "max_instances": 5}
    assert not any(call.action in MUTATING for call in emulator.calls)
    assert all(emulator.renewal_count(i) == 0 for i in ids)

    assert next(r for r in log_records(log_lines) if r["event"] == "cap_exceeded")["candidates"] == 6
    (alert,) = [m["markdown"] for m in dingtalk.messages if "cap" in m["markdown"]["title"]]
    assert "NOTHING renewed" in alert["title"]
    for how in ("max_instances", "MAX_RENEWALS", "instance_ids", "by hand"):  # the three ways forward
        assert how in alert["text"]


def test_exactly_at_the_cap_renews_all(run, env, emulator):
    env["REGIONS"] = ",".join(REGIONS)
    ids = fleet(emulator, 2)
    result = run("renew-batch", {"dry_run": False, "max_instances": 6})
    assert "cap_exceeded" not in result
    assert sorted(r["instance_id"] for r in result["renewed"]) == ids


def test_the_cap_counts_what_would_be_renewed_not_what_policy_skips(run, env, emulator):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    for _ in range(3):
        emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"renewal": "manual"})
    emulator.add_instance("cn-hangzhou", expired_time=soon(), renewal_status="NotRenewal")
    result = run("renew-batch", {"dry_run": False, "max_instances": 3})
    assert sorted(r["instance_id"] for r in result["renewed"]) == ids
    assert len(result["skipped"]) == 4


def test_the_cap_comes_from_the_environment_too_and_holds_in_a_dry_run(run, env, emulator):
    env.update(MAX_RENEWALS="2", REGIONS=",".join(REGIONS))
    fleet(emulator, 1)
    result = run("renew-batch")  # dry run by default
    assert result["cap_exceeded"] == {"candidates": 3, "max_instances": 2} and result["renewed"] == []


def test_a_cap_hit_then_raised_on_purpose_renews_each_once(run, emulator):
    """The way forward the alert gives: run again with a higher cap. Nothing was half done before."""
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(4))
    assert run("renew-batch", {"dry_run": False, "max_instances": 3})["renewed"] == []
    result = run("renew-batch", {"dry_run": False, "max_instances": 4})
    assert sorted(r["instance_id"] for r in result["renewed"]) == ids
    assert all(emulator.renewal_count(i) == 1 for i in ids)
