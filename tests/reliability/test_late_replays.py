"""Issue 13 — exactly once at any replay delay (the renewal ledger), and a budget that is a ceiling.

Two layers keep a renewal single: the deterministic ClientToken (``idempotency/keys.py``) covers the seconds
before the new expiry is visible; the renewal ledger in the instance's own tags (``renewal_ledger.py``)
covers everything after — a replay hours later, a second coordinator, an operator repeating the event.
Every test here runs the real handlers against the emulator through the real SDK, and the emulator
forgets ClientTokens after 0.2 s (``client_token_ttl``), so nothing here leans on the token's memory.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from ecs_emulator.pricing import Resources
from ecs_renewal import timeutil
from ecs_renewal.config import build
from tests.reliability.conftest import soon
from tests.reliability.ledger import account_for

pytestmark = pytest.mark.promise(1)
VISIBLE = 1.15  # just past the test emulator's renew_visibility_delay (1 s)
LEDGER_KEYS = ("ecs-renewal:intent", "ecs-renewal:renewed")


@pytest.fixture(autouse=True)
def short_token_memory(emulator):
    emulator.state.client_token_ttl = 0.2


def fleet(emulator, count: int, *, expired_time: datetime | None = None, **kwargs) -> list[str]:
    expiry = expired_time or soon()
    return sorted(emulator.add_instance("cn-hangzhou", expired_time=expiry, **kwargs) for _ in range(count))


def extended_once(emulator, ids: list[str]) -> bool:
    return all(emulator.renewal_count(i) == 1 for i in ids)


# --- instance_ids: no window protects a replay ----------------------------------------------------


@pytest.mark.parametrize("replay_request_id", ["req-first", "req-another"], ids=["same-request", "new-request"])
def test_instance_ids_replayed_after_the_new_expiry_is_visible_renew_nothing_again(
        run, emulator, replay_request_id):
    ids = fleet(emulator, 3)
    event = {"dry_run": False, "instance_ids": ids}
    first = run("renew-batch", event, request_id="req-first")
    assert [r["instance_id"] for r in first["renewed"]] == ids and first["failed"] == []
    time.sleep(VISIBLE)  # the new expiries are visible, every ClientToken forgotten
    assert all(emulator.instance(i).renewals[0].new_expired_time > soon(20) for i in ids)

    replay = run("renew-batch", event, request_id=replay_request_id)
    assert replay["renewed"] == [] and replay["failed"] == [] and account_for(replay, ids) == set()
    assert "RenewInstance" not in replay["api_calls"]
    assert extended_once(emulator, ids)
    orders = {r["instance_id"]: r["order_id"] for r in first["renewed"]}
    for row in replay["skipped"]:  # the second result says why: when, which order, which expiry move
        record = emulator.instance(row["instance_id"]).renewals[0]
        assert row["reason"].startswith("renewed by ecs-renewal at ")
        assert f"order {orders[row['instance_id']]}" in row["reason"]
        old, new = record.old_expired_time.strftime("%Y-%m-%dT%H:%MZ"), record.new_expired_time.strftime(
            "%Y-%m-%dT%H:%MZ")
        assert f"expiry {old} → {new}" in row["reason"]
        assert row["ledger"]["status"] == "renewed"
    assert replay["ledger"]["renewed"] == 3 and replay["ledger"]["alerts"] == []


@pytest.mark.renewals_allowed(2)
def test_force_renews_again_and_says_so(run, emulator, log_lines):
    (instance_id,) = fleet(emulator, 1)
    run("renew-batch", {"dry_run": False, "instance_ids": [instance_id]})
    time.sleep(VISIBLE)
    forced = run("renew-batch", {"dry_run": False, "instance_ids": [instance_id], "force": True})
    assert [r["instance_id"] for r in forced["renewed"]] == [instance_id]
    assert emulator.renewal_count(instance_id) == 2
    (alert,) = forced["ledger"]["alerts"]
    assert alert["status"] == "forced" and "force: true" in alert["detail"]
    assert forced["ledger"]["forced"] == [instance_id]
    assert any('"event": "ledger_overridden"' in line for line in log_lines.getvalue().splitlines())


# --- window mode: Function Compute's replay later than the timeout -------------------------------


def test_a_replay_after_the_timeout_with_short_tagged_terms_extends_nothing_twice(env, emulator, monkeypatch):
    """WINDOW_DAYS=7 and an instance tagged to renew by 1 week: renewed, it is still in the window an hour
    later. The first attempt renews, then dies; FC replays it after the function's timeout, an hour on."""
    env.update(WINDOW_DAYS="7")
    tags = {"renewal-period": "1", "renewal-unit": "Week"}
    ids = fleet(emulator, 3, expired_time=soon(0.02), tags=tags)  # expiring in ~30 minutes
    emulator.fc.environment = {key: env[key] for key in ("REGIONS", "ECS_ENDPOINT", "STS_ENDPOINT", "ECS_MAX_QPS",
                                                         "WINDOW_DAYS")}
    emulator.fc.timeout, emulator.fc.async_retry_delay = 1, 1.5  # the replay comes after the timeout
    emulator.renew_visibility_delay = 0.2  # ... by when every new expiry shows

    shift = [timedelta(0)]
    real_now = timeutil.utc_now
    monkeypatch.setattr(timeutil, "utc_now", lambda: real_now() + shift[0])
    monkeypatch.setattr(build, "utc_now", lambda: real_now() + shift[0])
    from ecs_renewal.jobs import ledger_guard

    summary = ledger_guard.LedgerGuard.summary

    def die_once(self):
        if shift[0] == timedelta(0):
            shift[0] = timedelta(hours=1)  # the replay's clock: an hour later (maxAsyncEventAgeInSeconds 4 h)
            raise RuntimeError("Function timed out after 1 seconds")
        return summary(self)

    monkeypatch.setattr(ledger_guard.LedgerGuard, "summary", die_once)
    answer = invoke_async(emulator, "renew-batch", {"dry_run": False})
    assert answer.status == 202 and emulator.fc.wait_idle(30)
    first, replay = emulator.fc.records("renew-batch")
    assert first.error is not None and replay.error is None and replay.attempt == 2
    result = replay.result
    assert result["renewed"] == [] and account_for(result, ids) == set()
    # Still in the replay's window, and its token differs (the new expiry): only the ledger stops it.
    assert all(result["window"]["start"] < emulator.instance(i).visible_expired_time.strftime("%Y-%m-%dT%H:%MZ")
               < result["window"]["end"] for i in ids)
    assert all(row["reason"].startswith("renewed by ecs-renewal at ") for row in result["skipped"])
    assert extended_once(emulator, ids)


def invoke_async(emulator, function: str, event: dict):
    """An async invocation through FC's 2.0 API, signed as aliyun-fc2 signs it."""
    from email.utils import formatdate

    from fc2.auth import Auth

    creds = emulator.function_credentials
    path = f"/2016-08-15/services/ecs-renewal/functions/{function}/invocations"
    headers = {"date": formatdate(usegmt=True), "content-type": "application/json",
               "x-fc-invocation-type": "Async", "x-fc-security-token": creds.security_token}
    headers["authorization"] = Auth(creds.access_key_id, creds.access_key_secret,
                                    creds.security_token).sign_request("POST", path, headers)
    return emulator.fc.handle("POST", path, "", headers, json.dumps(event).encode())


# --- the ledger's own failures ---------------------------------------------------------------------


def test_no_room_for_the_ledger_is_not_renewed_and_said(run, emulator):
    crowded = emulator.add_instance("cn-hangzhou", expired_time=soon(), tags={f"k{n}": "v" for n in range(19)})
    (fine,) = fleet(emulator, 1)
    result = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in result["renewed"]] == [fine]
    (failure,) = result["failed"]
    assert (failure["instance_id"], failure["code"]) == (crowded, "Ledger.NoRoom")
    assert "not renewed without a record" in failure["message"]
    assert emulator.renewal_count(crowded) == 0 and len(emulator.instance(crowded).tags) == 19


def test_a_failed_intent_write_renews_nothing_and_the_next_run_does(run, emulator):
    (instance_id,) = fleet(emulator, 1)
    emulator.faults.add(action="TagResources", kind="error", status=403, code="Forbidden.RAM", times=1)
    result = run("renew-batch", {"dry_run": False})
    assert result["renewed"] == [] and [f["code"] for f in result["failed"]] == ["Forbidden.RAM"]
    assert emulator.renewal_count(instance_id) == 0
    again = run("renew-batch", {"dry_run": False})
    assert [r["instance_id"] for r in again["renewed"]] == [instance_id] and extended_once(emulator, [instance_id])


def test_a_lost_outcome_write_is_alerted_and_the_replay_falls_back_on_the_moved_expiry(run, emulator, monkeypatch):
    from ecs_renewal.idempotency.persistence.tags import TagStore

    ids = fleet(emulator, 2)
    write = TagStore.write

    def no_outcome(self, resource, records):
        if "ecs-renewal:renewed" in records:
            raise RuntimeError("TagResources: connection reset")
        return write(self, resource, records)

    monkeypatch.setattr(TagStore, "write", no_outcome)
    first = run("renew-batch", {"dry_run": False, "instance_ids": ids})
    assert [r["instance_id"] for r in first["renewed"]] == ids  # the renewals stand
    assert {a["status"] for a in first["ledger"]["alerts"]} == {"outcome_not_recorded"}
    monkeypatch.setattr(TagStore, "write", write)
    time.sleep(VISIBLE)
    replay = run("renew-batch", {"dry_run": False, "instance_ids": ids})
    assert replay["renewed"] == [] and all("outcome record is missing" in s["reason"] for s in replay["skipped"])
    assert extended_once(emulator, ids)


def test_the_next_run_reconciles_what_left_the_window_and_drops_the_intent(run, emulator):
    ids = fleet(emulator, 2)
    run("renew-batch", {"dry_run": False})
    assert all(set(LEDGER_KEYS) <= set(emulator.instance(i).tags) for i in ids)
    time.sleep(VISIBLE)
    later = run("renew-batch", {"dry_run": False})  # the renewed instances left the window
    assert later["renewed"] == [] and later["ledger"]["confirmed"] == 2 and later["ledger"]["alerts"] == []
    assert all("ecs-renewal:intent" not in emulator.instance(i).tags for i in ids)
    assert all("ecs-renewal:renewed" in emulator.instance(i).tags for i in ids)  # the record stays


# --- the budget is a ceiling -----------------------------------------------------------------------


def ten_of_one_type(emulator) -> tuple[list[str], float]:
    ids = sorted(
        emulator.add_instance("cn-hangzhou", expired_time=soon(), instance_type="ecs.g7.large",
                              resources=Resources(40 + 20 * n, (100 * n,) if n % 2 else (), n % 3,
                                                  99.0 if n == 7 else 0.0))  # one with a paid image
        for n in range(10))
    prices = [emulator.renewal_price(i) for i in ids]
    assert len(set(prices)) == 10  # one type, ten prices
    return ids, round(sum(prices), 2)


@pytest.mark.promise(3)
def test_a_budget_one_below_the_true_total_charges_nothing(run, emulator):
    ids, total = ten_of_one_type(emulator)
    result = run("renew-batch", {"dry_run": False, "max_cost": total - 1})
    assert all(emulator.renewal_count(i) == 0 for i in ids)
    assert result["renewed"] == [] and result["budget_exceeded"]["amount"] == total
    assert result["estimated_cost"] == {"amount": total, "currency": "CNY", "priced": 10, "unknown": 0,
                                        "exact": True}
    assert emulator.total_charged() == 0 <= total - 1
    assert result["api_calls"]["DescribeRenewalPrice"] == 10  # each instance priced on its own


@pytest.mark.promise(3)
def test_a_budget_one_above_the_true_total_renews_all_ten_once(run, emulator):
    ids, total = ten_of_one_type(emulator)
    result = run("renew-batch", {"dry_run": False, "max_cost": total + 1})
    assert sorted(r["instance_id"] for r in result["renewed"]) == ids and extended_once(emulator, ids)
    assert emulator.total_charged() == total <= total + 1
    assert sum(r["price"] for r in result["renewed"]) == pytest.approx(total)


def test_the_scan_keeps_estimating_per_type_and_says_so(run, emulator):
    ten_of_one_type(emulator)
    scan = run("scan-expiring")
    assert scan["api_calls"]["DescribeRenewalPrice"] == 1 and scan["estimated_cost"]["exact"] is False


def test_records_are_tag_values_the_console_accepts(run, emulator):
    (instance_id,) = fleet(emulator, 1)
    run("renew-batch", {"dry_run": False}, request_id="a-very-long-request-id-" + "x" * 80)
    tags = emulator.instance(instance_id).tags
    assert all(len(tags[key]) <= 128 for key in LEDGER_KEYS)
    assert datetime.strptime(tags["ecs-renewal:intent"].split()[0][3:], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc) <= datetime.now(timezone.utc)
