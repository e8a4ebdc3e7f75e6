"""The product under the cloud's stricter rules (issue 12), against the emulator's documented defaults.

Tests marked xfail(strict=True, "issue 12 product side") show what the product does NOT yet survive; the
product side of issue 12 turns them green (strict: they fail loudly once they pass).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from ecs_emulator import Quota
from ecs_renewal.errors import InvalidEventError


def soon(days: float = 2) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


# ---- 1. throttling ---------------------------------------------------------------------------------


def test_with_ecs_max_qps_at_the_quota_a_run_gets_no_throttle_answer(run, env, emulator):
    env.update(REGIONS="cn-hangzhou,cn-shanghai", ECS_MAX_QPS="5")
    for action in ("DescribeInstances", "DescribeInstanceAutoRenewAttribute", "RenewInstance", "DescribeRenewalPrice"):
        emulator.throttle.overrides[action] = Quota(5, 1)  # 5 calls/s per (account, region, action)
    ids = [emulator.add_instance(region, expired_time=soon()) for region in ("cn-hangzhou", "cn-shanghai") * 4]
    result = run("renew-batch", {"dry_run": False})
    assert result["failed"] == [] and all(emulator.renewal_count(i) == 1 for i in ids)
    assert emulator.throttle.throttled_total == 0


# ---- 4. DingTalk's 20,000-byte body -----------------------------------------------------------------


# Before issue 12 the text was capped at 18,000 bytes but the @-mention list repeated every owner in every
# part: a 20,614-byte body that DingTalk refuses (460101). Now each body is measured, mentions included.
def test_a_digest_with_many_owners_fits_dingtalks_body_limit(run, env, emulator):
    # 400 expiring instances, 150 owners: the shape the issue measured at a 20,614-byte body.
    env.update(DINGTALK_WEBHOOK=emulator.dingtalk.webhook_url, DINGTALK_SECRET=emulator.dingtalk.secret)
    for n in range(400):
        emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"owner": f"138{n % 150:08d}"})
    result = run("scan-expiring")
    assert [attempt.errcode for attempt in emulator.dingtalk.rejected] == []
    assert result["alerts"]["sent"] == result["alerts"]["messages"] >= 1


# ---- 3. RAM -----------------------------------------------------------------------------------------


def test_the_ram_documents_let_every_job_run(run, emulator):
    # The emulator's default function role carries exactly ram/'s documents (Forbidden.RAM otherwise).
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    for job, event in (("scan-expiring", None), ("renew-batch", {"dry_run": False}),
                       ("audit-autorenew", {"fix": True, "dry_run": False})):  # fmt: skip
        result = run(job, event)
        assert result["errors"] == [] and not result.get("failed"), job
    assert not [c for c in emulator.calls if c.notes.get("ram") == "denied"]


# Without ecs:DescribeInstances the API answers an EMPTY list, not an error: before issue 14 the scan read it as
# "nothing expiring". Now an empty answer is believed only after DescribeInstances with DryRun=true.
def test_a_role_without_describe_permission_is_reported_not_read_as_an_empty_fleet(run, env, emulator):
    emulator.add_instance("cn-hangzhou", expired_time=soon())
    lacking = emulator.issue_credentials_with_policy(
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ecs:DescribeRenewalPrice", "Resource": "*"}]},
        name="ecs-renewal-no-describe",
    )
    result = run("scan-expiring", credentials=lacking)
    assert [error["code"] for error in result["errors"]] == ["Forbidden.RAM"]


# ---- 7. ClientToken memory --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "replay_after",
    [
        "token forgotten, new expiry visible",
        # The renewal ledger (issue 13): the replay reads the intent and outcome tags written by the first run.
        "token forgotten, expiry not yet visible",
    ],
)
def test_a_late_replay_never_leans_on_the_token_memory(run, emulator, replay_after):
    emulator.state.client_token_ttl = 0.2  # the cloud's memory is undocumented: make it short
    visible_later = replay_after.endswith("not yet visible")
    emulator.renew_visibility_delay = 30.0 if visible_later else 0.3
    ids = sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(3))
    first = run("renew-batch", {"dry_run": False}, request_id="req-late")
    assert all(emulator.renewal_count(i) == 1 for i in ids) and first["failed"] == []
    time.sleep(0.5)  # every token forgotten by the emulator
    run("renew-batch", {"dry_run": False}, request_id="req-late")  # FC replays the same event, later
    assert all(emulator.renewal_count(i) == 1 for i in ids)


# ---- 5. renewal terms per site and the unified expiry day -------------------------------------------


def test_the_site_setting_refuses_terms_the_site_does_not_sell_before_any_call(run, env, emulator):
    emulator.site = "intl"  # the international site sells Month 1-9 and 12 only (RenewInstance doc)
    ids = [emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(2)]
    # Without SITE the product believes China's terms: every renewal reaches the cloud and fails there.
    before = run("renew-batch", {"dry_run": False, "period": 24, "window_days": 7})
    assert sorted(r["instance_id"] for r in before["failed"]) == sorted(ids)
    calls = len(emulator.calls)
    env["SITE"] = "intl"
    with pytest.raises(InvalidEventError, match="intl"):
        run("renew-batch", {"dry_run": False, "period": 24, "window_days": 7})
    assert len(emulator.calls) == calls  # refused before the first API call
    assert all(emulator.renewal_count(i) == 0 for i in ids)


def test_a_renewal_day_tag_renews_only_when_the_account_has_that_unified_day(run, env, emulator):
    tagged = emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={"renewal-day": "15"})
    # The account has no unified expiry day (the emulator's default): a skip with the reason, no RenewInstance.
    result = run("renew-batch", {"dry_run": False})
    assert [s["instance_id"] for s in result["skipped"]] == [tagged] and result["failed"] == []
    assert "unified expiry day" in result["skipped"][0]["reason"]
    assert not [c for c in emulator.calls if c.action == "RenewInstance"]
    emulator.set_unified_expiry_day(15)
    env["UNIFIED_EXPIRY_DAY"] = "15"
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [tagged] and emulator.renewal_count(tagged) == 1
