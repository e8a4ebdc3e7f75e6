"""Promise 2 — nothing lost: through throttling storms, 5xx and dropped connections every page of every list
is read, and every candidate ends renewed, skipped with a reason, or failed with a code.

Mechanism: ``gateway/retry.py`` (one policy for every call: throttling, 5xx and network errors retried
with full-jitter exponential backoff, capped, inside a deadline; final errors never retried), per-instance
isolation in the jobs, per-region isolation in ``jobs/base.per_region``.
"""

from __future__ import annotations

import math
import random
import statistics
import time

import pytest

from ecs_emulator import Quota
from ecs_renewal.gateway.retry import THROTTLING_CODES, RetryPolicy
from tests.reliability.conftest import calls_of, log_records, soon
from tests.reliability.ledger import account_for

pytestmark = pytest.mark.promise(2)

REGIONS = ("cn-hangzhou", "cn-shanghai")
THROTTLES = ("Throttling", "Throttling.User", "Throttling.Api")
READ_ACTIONS = ("DescribeInstances", "DescribeInstanceAutoRenewAttribute")


def big_fleet(emulator, per_region: int) -> dict[str, list[str]]:
    """``per_region`` prepaid instances expiring in the window in each region (several pages), plus
    instances that must not be selected: far expiry, pay-as-you-go, excluded by tag."""
    ids: dict[str, list[str]] = {}
    for region in REGIONS:
        ids[region] = [
            emulator.add_instance(region, expired_time=soon(1 + (n % 5))) for n in range(per_region)
        ]
        emulator.add_instance(region, expired_time=soon(60))
        emulator.add_instance(region, charge_type="PostPaid")
        ids[region].append(emulator.add_instance(region, expired_time=soon(), tags={"renewal": "manual"}))
    return ids


def storm(emulator, actions: tuple[str, ...], strength: float) -> None:
    """Every kind of transient fault at once, each striking a share of the calls at random (seeded)."""
    share = strength / 7
    for action in actions:
        for code in THROTTLES:
            emulator.faults.add(action=action, kind="throttle", code=code, times=None, probability=share)
        emulator.faults.add(action=action, kind="error", status=503, times=None, probability=share)
        emulator.faults.add(action=action, kind="error", status=500, code="InternalError", times=None,
                            probability=share)
        if action == "RenewInstance":
            emulator.faults.add(action=action, kind="apply_then_drop", times=None, probability=share)
        else:
            emulator.faults.add(action=action, kind="error", status=502, code="BadGateway", times=None,
                                probability=share)


def successful_pages(emulator, action: str, region: str) -> int:
    """Pages of the run's own listing (not renew-batch's read of the ledger's open entries, by tag key)."""
    return sum(1 for c in calls_of(emulator, action)
               if c.region == region and c.http_status == 200 and "Tag.1.Key" not in c.params)


def test_a_storm_on_every_action_loses_no_page_and_no_instance(run, env, emulator, log_lines):
    env.update(REGIONS=",".join(REGIONS))
    ids = big_fleet(emulator, 130)  # 2 pages of DescribeInstances, 2 of the auto-renew attributes
    # The funds forecast lists the same instances again (its look ahead): 2 more pages a region, in the storm too.
    storm(emulator, ("DescribeInstances", "DescribeInstanceAutoRenewAttribute", "RenewInstance",
                     "QueryAccountBalance"), 0.3)

    result = run("renew-batch", {"dry_run": False, "max_instances": 500})

    everything = [i for region in REGIONS for i in ids[region]]
    assert account_for(result, everything) == set()
    assert result["errors"] == []
    excluded = {r["instance_id"] for r in result["skipped"]}
    assert excluded == {ids[region][-1] for region in REGIONS}
    failed = {r["instance_id"]: r["code"] for r in result["failed"]}
    assert all(code in THROTTLING_CODES or code in ("ServiceUnavailable", "InternalError", "SDK.HttpError")
               for code in failed.values())  # only if one call lost all six of its attempts
    assert len(result["renewed"]) >= len(everything) - 2 - 3
    for row in result["renewed"]:
        assert emulator.renewal_count(row["instance_id"]) == 1
    assert all(emulator.renewal_count(i) <= 1 for i in failed)
    # Every page was eventually read: 131 instances in the window = 2 pages, once (the candidates and the
    # funds look ahead share one read of the union window, issue 12).
    for region in REGIONS:
        assert successful_pages(emulator, "DescribeInstances", region) == 2
    retries = [r for r in log_records(log_lines) if r["event"] == "api_retry"]
    assert len(retries) > 50 and {r["code"] for r in retries} >= set(THROTTLES)
    # Every fault answer was either retried or is a failure in the result: none was swallowed.
    faulted = [c for c in emulator.calls if c.fault]
    assert set(emulator.faults.injected) == {"throttle", "error", "apply_then_drop"}
    assert len(faulted) == sum(emulator.faults.injected.values()) == len(retries) + len(failed)


def test_scan_and_audit_read_every_page_through_a_storm(run, env, emulator):
    env.update(REGIONS=",".join(REGIONS))
    ids = big_fleet(emulator, 230)  # 3 pages per region
    storm(emulator, READ_ACTIONS, 0.3)

    scan = run("scan-expiring")
    assert scan["errors"] == []
    assert {r["instance_id"] for r in scan["expiring"]} == {i for region in REGIONS for i in ids[region]}

    audit = run("audit-autorenew")  # every prepaid instance has auto-renew off: all of them drift
    assert audit["errors"] == [] and audit["failed"] == []
    reported = {r["instance_id"] for r in audit["drift"]} | {r["instance_id"] for r in audit["skipped"]}
    prepaid = {r.instance_id for r in emulator.instances() if r.charge_type == "PrePaid"}
    assert reported == prepaid and len(prepaid) == 2 * 232


@pytest.mark.parametrize("code", THROTTLES)
@pytest.mark.parametrize("action", [*READ_ACTIONS, "RenewInstance"])
def test_each_throttling_code_on_each_action_is_retried_until_it_passes(run, emulator, action, code):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2))
    emulator.faults.add(action=action, kind="throttle", code=code, times=3)
    result = run("renew-batch", {"dry_run": False})
    assert account_for(result, ids) == set()
    assert [r["instance_id"] for r in result["renewed"]] == ids and result["errors"] == []
    assert result["api_calls"][action] == emulator.calls_by_action()[action] >= 4


def test_backoff_is_full_jitter_exponential_capped_and_really_slept(run, emulator, log_lines, pauses):
    instance = emulator.add_instance("cn-hangzhou", expired_time=soon())
    emulator.faults.add(action="RenewInstance", kind="throttle", code="Throttling.Api", times=4)
    emulator.faults.add(action="DescribeInstances", kind="error", status=503, times=4)
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [instance]

    policy = RetryPolicy()
    retries = [r for r in log_records(log_lines) if r["event"] == "api_retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3, 4, 1, 2, 3, 4]
    backed_off = [r for r in retries if r["code"] not in THROTTLING_CODES]
    assert [r["code"] for r in backed_off] == ["ServiceUnavailable"] * 4
    for record in backed_off:  # attempt n waits at most min(cap, base * 2**(n-1))
        assert 0 <= record["pause_s"] <= min(policy.max_delay, policy.base_delay * 2 ** (record["attempt"] - 1)) + 0.001
    assert [round(p, 3) for p in pauses] == [r["pause_s"] for r in backed_off]  # every pause was slept
    # A throttle is not backed off at random (issue 12): its lane waits for the cloud's next minute and probes
    # at 1 QPS (both shrunk in these tests, like the pauses).
    assert all("pause_s" not in r and "minute" in r["wait"] for r in retries if r["code"] in THROTTLING_CODES)

    # The distribution: full jitter (uniform in [0, bound]), doubling per attempt, capped.
    sampler = RetryPolicy(rng=random.Random(7))
    for attempt in range(7):
        samples = [sampler.delay(attempt, "Throttling") for _ in range(3000)]
        bound = min(sampler.max_delay, sampler.throttle_base_delay * 2**attempt)
        assert max(samples) <= bound
        assert statistics.mean(samples) == pytest.approx(bound / 2, rel=0.06)
        assert len(set(samples)) > 2900  # jittered: no two retries wait the same


@pytest.mark.parametrize(("status", "code"), [
    (403, "InvalidAccountStatus.NotEnoughBalance"),
    (403, "InstanceLockedForSecurity"),
    (403, "ChargeTypeViolation"),
    (400, "InvalidParameter"),
    (400, "InvalidPeriod"),
    (400, "IdempotenceParamNotMatch"),
    (400, "IdempotentParameterMismatch"),  # the idempotence page's spelling of the same error: both final
    (403, "IncorrectInstanceStatus"),
    (403, "Forbidden.RAM"),
])
def test_final_errors_are_not_retried(run, emulator, status, code):
    failing, fine = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2))
    emulator.faults.add(action="RenewInstance", kind="error", status=status, code=code, instance_id=failing,
                        times=None)
    result = run("renew-batch", {"dry_run": False})
    assert account_for(result, [failing, fine]) == set()
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [(failing, code)]
    assert [r["instance_id"] for r in result["renewed"]] == [fine]
    assert len(calls_of(emulator, "RenewInstance", failing)) == 1


def test_an_empty_balance_fails_each_renewal_once_with_its_code(run, env, emulator):
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    env["FUNDS_HORIZON_DAYS"] = "0"  # no forecast (it would refuse the plan: test_never_silent): the cloud's answer
    emulator.balance = 0
    result = run("renew-batch", {"dry_run": False})
    assert account_for(result, ids) == set()
    assert {r["code"] for r in result["failed"]} == {"InvalidAccountStatus.NotEnoughBalance"}
    assert len(calls_of(emulator, "RenewInstance")) == 3


@pytest.mark.real_backoff
def test_the_deadline_keeps_a_throttled_run_inside_the_function_timeout(run, emulator):
    """A throttle that never ends: the run stops retrying at the deadline (timeout - 15 s) and reports."""
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    emulator.faults.add(action="RenewInstance", kind="throttle", code="Throttling.Api", times=None)
    started = time.monotonic()
    result = run("renew-batch", {"dry_run": False}, timeout=20)  # deadline: max(5, 20 - 15) = 5 s
    elapsed = time.monotonic() - started
    assert elapsed < 8, f"took {elapsed:.1f} s: retries went on past the deadline"
    assert account_for(result, ids) == set()
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [(i, "Throttling.Api") for i in ids]
    assert all(emulator.renewal_count(i) == 0 for i in ids)


@pytest.mark.parametrize("job", ["scan-expiring", "renew-batch", "audit-autorenew"])
def test_one_region_down_fails_that_region_only(run, env, emulator, job):
    regions = ("cn-hangzhou", "cn-shanghai", "cn-beijing")
    env["REGIONS"] = ",".join(regions)
    ids = {region: sorted(emulator.add_instance(region, expired_time=soon()) for _ in range(3))
           for region in regions}
    emulator.faults.region_down("cn-shanghai")
    result = run(job, {"dry_run": False, "fix": True} if job != "scan-expiring" else None)
    assert [(e["region"], e["code"]) for e in result["errors"]] == [("cn-shanghai", "SDK.HttpError")]
    up = [i for region in ("cn-hangzhou", "cn-beijing") for i in ids[region]]
    if job == "scan-expiring":
        assert sorted(r["instance_id"] for r in result["expiring"]) == sorted(up)
    elif job == "renew-batch":
        assert account_for(result, up) == set() and result["failed"] == []
        assert all(emulator.renewal_count(i) == 1 for i in up)
    else:
        assert sorted(r["instance_id"] for r in result["fixed"]) == sorted(up)
    assert all(emulator.renewal_count(i) == 0 for i in ids["cn-shanghai"])


def test_named_instances_in_a_region_that_is_down_are_reported_not_dropped(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    ok = emulator.add_instance("cn-hangzhou", expired_time=soon())
    unreachable = emulator.add_instance("cn-shanghai", expired_time=soon())
    emulator.faults.region_down("cn-shanghai")
    result = run("renew-batch", {"dry_run": False, "instance_ids": [ok, unreachable]})
    assert account_for(result, [ok, unreachable]) == set()
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [(unreachable, "RegionUnavailable")]


def test_a_region_that_goes_down_mid_batch_fails_its_rest_only(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    ids = {region: sorted(emulator.add_instance(region, expired_time=soon()) for _ in range(4))
           for region in ("cn-hangzhou", "cn-shanghai")}
    emulator.faults.add(action="RenewInstance", region="cn-shanghai", kind="pass",
                        then=lambda: emulator.faults.region_down("cn-shanghai"))
    result = run("renew-batch", {"dry_run": False})
    everything = ids["cn-hangzhou"] + ids["cn-shanghai"]
    assert account_for(result, everything) == set()
    assert all(emulator.renewal_count(i) == 1 for i in ids["cn-hangzhou"])
    failed = {r["instance_id"]: r["code"] for r in result["failed"]}
    assert set(failed.values()) == {"SDK.HttpError"} and set(failed) < set(ids["cn-shanghai"])
    assert all(emulator.renewal_count(i) == (0 if i in failed else 1) for i in ids["cn-shanghai"])


@pytest.mark.real_backoff
@pytest.mark.parametrize(
    "minute_block",
    [
        # A server whose throttle lifts when its 1 s window slides: measures our backoff alone.
        pytest.param(False, id="sliding-second"),
        # The documented rule: throttled in minute T, blocked until minute T+1 (ECS API throttling doc).
        # Before issue 12 the client gave up after ~30 s of backoff and this failed renewals (Throttling.User);
        # now the lane waits for the next minute, probes at 1 QPS and every renewal lands.
        pytest.param(True, id="minute-block"),
    ],
)
def test_the_server_rate_limit_slows_the_run_but_every_renewal_lands(run, env, emulator, minute_block):
    env["ECS_MAX_QPS"] = "50"  # our pacing above the server's limit: the server throttles, we back off
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(12))
    # 4 calls per second for each action the run reads and renews with, then Throttling.User. Each renewal's
    # own price and the renewal ledger's tags keep their documented quotas: their lanes' minute blocks would
    # add up past the run's deadline, and this test is about the backoff of the renewals themselves.
    for action in ("DescribeInstances", "DescribeInstanceAutoRenewAttribute", "RenewInstance"):
        emulator.throttle.overrides[action] = Quota(4, 1)
    emulator.throttle.block_until_next_minute = minute_block
    if minute_block:  # start the run at second 0 of the emulator's minute: the block lasts a full minute
        offset = time.time() % 60
        emulator.throttle.clock = lambda: time.time() - offset
    result = run("renew-batch", {"dry_run": False})
    assert account_for(result, ids) == set() and result["failed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert emulator.faults.injected["rate_limit"] > 0
    assert math.isclose(sum(result["api_calls"].values()), len(emulator.calls))
