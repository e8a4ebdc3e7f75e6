"""Promise 1 — exactly once: every selected instance is extended once, counted in the emulator's state.

The mechanism is the renewal's deterministic ClientToken (``ecs_renewal/idempotency/keys.py``): a hash of the
instance id, the expiry the instance had when it was selected, the period and its unit. Every retry of a
call, every replay of the invocation and every overlapping invocation that sees the same expiry sends the
same token, and ECS answers with the first order instead of renewing again. Once the new expiry is
visible (~10 s; 1 s in these tests) the instance has left the window (the renewal period is longer than
the window), so nothing selects it any more. ``test_limits_*`` show where this stops holding.

Removing the token (or making it differ between attempts) turns these tests red: see
``test_without_a_deterministic_token_a_replay_renews_twice``.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from ecs_renewal.errors import InvalidEventError
from ecs_renewal.gateway.client import Caller, ClientFactory
from ecs_renewal.gateway.ecs import EcsGateway
from ecs_renewal.gateway.retry import RetryPolicy
from ecs_renewal.runtime import resolve_base_credentials
from tests.handlers import fc_context_py310
from tests.reliability.conftest import (
    assert_calls_match_stats,
    calls_of,
    renew_by_hand,
    renew_request,
    sdk_client,
    soon,
)
from tests.reliability.ledger import account_for

pytestmark = pytest.mark.promise(1)
VISIBLE = 1.15  # just past the test emulator's renew_visibility_delay (1 s)


class FunctionTimedOut(BaseException):
    """Function Compute stopping the function mid-batch (it kills the process; nothing is caught)."""


def crash_after(monkeypatch, renewals: int) -> None:
    """The next invocation dies right after its ``renewals``-th RenewInstance was applied (and answered):
    that call and every later one of the same invocation raise, as if the process were gone."""
    original = EcsGateway.renew_instance
    done = [0]
    lock = threading.Lock()

    def renew_then_maybe_die(self, *args, **kwargs):
        with lock:
            if done[0] >= renewals:
                raise FunctionTimedOut("the function was stopped")
        order = original(self, *args, **kwargs)
        with lock:
            done[0] += 1
            if done[0] >= renewals:
                raise FunctionTimedOut(f"killed after {renewals} renewals")
        return order

    monkeypatch.setattr(EcsGateway, "renew_instance", renew_then_maybe_die)
    return lambda: monkeypatch.setattr(EcsGateway, "renew_instance", original)  # the replays run normally


def fleet(emulator, count: int, region: str = "cn-hangzhou") -> list[str]:
    return sorted(emulator.add_instance(region, expired_time=soon()) for _ in range(count))


def orders(emulator, ids: list[str]) -> dict[str, str]:
    return {i: emulator.instance(i).renewals[0].order_id for i in ids}


# --- Function Compute's async retries ---------------------------------------------------------------

SCHEDULES = {
    # first invocation's fate, then when each of FC's (up to 3) retries comes: "now" or after the delay
    "crash-then-3-immediate-retries": (3, ["now", "now", "now"]),
    "crash-then-retries-before-and-after-visibility": (2, ["now", "later", "later"]),
    "success-then-3-retries-anyway": (None, ["now", "later", "now"]),
}


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_fc_async_retries_extend_each_instance_exactly_once(run, env, emulator, monkeypatch, schedule):
    crash_at, retries = SCHEDULES[schedule]
    ids = fleet(emulator, 5)
    event = {"dry_run": False}
    if crash_at:
        env["RENEW_CONCURRENCY"] = "1"  # one renewal at a time: the crash leaves exactly crash_at done
        revive = crash_after(monkeypatch, crash_at)
        with pytest.raises(FunctionTimedOut):
            run("renew-batch", event)
        assert sum(emulator.renewal_count(i) for i in ids) == crash_at
        revive()
        del env["RENEW_CONCURRENCY"]
    else:
        assert account_for(run("renew-batch", event), ids) == set()

    visible = False
    for when in retries:
        if when == "later" and not visible:
            time.sleep(VISIBLE)
            visible = True
        result = run("renew-batch", event)
        assert result["failed"] == [] and result["errors"] == []
        if not visible:  # the old expiry is still what DescribeInstances shows
            assert account_for(result, ids) == set()
            # The ledger names the orders of what is done; the rest is renewed now (or answered again).
            done = {r["instance_id"]: r["order_id"] for r in result["renewed"]}
            done |= {r["instance_id"]: r["ledger"]["order_id"] for r in result["skipped"]}
            assert done == orders(emulator, ids)
        else:  # the new expiry is visible: out of the window, nothing selected
            assert result["renewed"] == []
        assert all(emulator.renewal_count(i) == 1 for i in ids)

    renew_calls = calls_of(emulator, "RenewInstance")
    assert all(c.params.get("ClientToken") for c in renew_calls)
    # Only the renewal the crash cut off between RenewInstance and the ledger's outcome is sent again (same
    # ClientToken, answered with its first order); the others are skips that name their order.
    assert sum(1 for c in renew_calls if c.replayed) == (1 if crash_at else 0)


# --- a mutating call applied, then answered badly ----------------------------------------------------

APPLIED_THEN = {
    "500-InternalError": {"kind": "apply_then_error", "status": 500, "code": "InternalError"},
    "503-ServiceUnavailable": {"kind": "apply_then_error", "status": 503, "code": "ServiceUnavailable"},
    "502-no-code": {"kind": "apply_then_error", "status": 502, "code": "BadGateway"},
    "connection-dropped": {"kind": "apply_then_drop"},
}


@pytest.mark.parametrize("fault", APPLIED_THEN)
def test_renewal_applied_then_answered_with_an_error_renews_once(run, emulator, fault):
    ids = fleet(emulator, 3)
    for instance_id in ids:  # every instance's first attempt is applied, then answered badly
        emulator.faults.add(action="RenewInstance", instance_id=instance_id, times=1, **APPLIED_THEN[fault])
    result = run("renew-batch", {"dry_run": False})
    assert account_for(result, ids) == set()
    assert [r["instance_id"] for r in result["renewed"]] == ids and result["failed"] == []
    for instance_id in ids:
        assert emulator.renewal_count(instance_id) == 1
        attempts = calls_of(emulator, "RenewInstance", instance_id)
        assert len(attempts) == 2 and attempts[0].applied and attempts[1].replayed
        assert len({c.params["ClientToken"] for c in attempts}) == 1
        order = emulator.instance(instance_id).renewals[0].order_id
        assert result["renewed"][ids.index(instance_id)]["order_id"] == order
    assert_calls_match_stats(result, emulator)


@pytest.mark.parametrize("fault", ["apply_then_error", "apply_then_drop"])
def test_auto_renew_fix_applied_then_answered_with_an_error_ends_right(run, emulator, fault):
    ids = fleet(emulator, 2)
    emulator.faults.add(action="ModifyInstanceAutoRenewAttribute", kind=fault, times=1, status=500,
                        code="InternalError")
    result = run("audit-autorenew", {"dry_run": False, "fix": True})
    assert sorted(f["instance_id"] for f in result["fixed"]) == ids and result["failed"] == []
    assert all(emulator.instance(i).auto_renew_enabled and emulator.instance(i).duration == 1 for i in ids)
    assert len(calls_of(emulator, "ModifyInstanceAutoRenewAttribute")) == 2


def test_client_timeout_after_the_server_applied_renews_once(run, env, emulator):
    """The answer comes after the client gave up: the SDK raises SDK.HttpError, we retry with the token."""
    env["ECS_READ_TIMEOUT"] = "1"  # an explicit client timeout wins over the SDK's 19 s table value
    ids = fleet(emulator, 2)
    emulator.faults.add(action="RenewInstance", kind="delay", delay=2.0, instance_id=ids[0], times=1)
    started = time.monotonic()
    result = run("renew-batch", {"dry_run": False})
    assert time.monotonic() - started < 5
    assert account_for(result, ids) == set() and result["failed"] == []
    attempts = calls_of(emulator, "RenewInstance", ids[0])
    assert len(attempts) == 2 and attempts[0].applied and attempts[1].replayed
    assert attempts[0].params["ClientToken"] == attempts[1].params["ClientToken"]
    assert all(emulator.renewal_count(i) == 1 for i in ids)


def test_two_overlapping_invocations_renew_each_instance_once(run, emulator):
    ids = fleet(emulator, 8)
    emulator.faults.latency = 0.01  # keep both invocations in flight together
    start = threading.Barrier(2)
    results: list[dict] = []
    errors: list[BaseException] = []

    def invocation(name: str) -> None:
        try:
            start.wait()
            results.append(run("renew-batch", {"dry_run": False}, request_id=name))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=invocation, args=(f"req-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and len(results) == 2
    for result in results:
        assert account_for(result, ids) == set() and result["failed"] == []
        assert {r["instance_id"]: r["order_id"] for r in result["renewed"]} == orders(emulator, ids)
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    renew_calls = calls_of(emulator, "RenewInstance")
    assert len(renew_calls) == 16 and sum(c.replayed for c in renew_calls) == 8


# --- the mechanism itself --------------------------------------------------------------------------


@pytest.mark.renewals_allowed(2)
def test_the_sdk_own_retry_pays_twice_without_a_token_our_gateway_once(emulator, env, log_lines):
    """Reference trap 1, then the fix: the SDK's retry is off and the token goes on every attempt."""
    bare, ours = fleet(emulator, 2)
    emulator.faults.add(action="RenewInstance", kind="apply_then_error", status=500, code="InternalError",
                        instance_id=bare, times=1)
    sdk_client(emulator, auto_retry=True).do_action_with_exception(renew_request(emulator, bare))
    assert emulator.renewal_count(bare) == 2  # the SDK retried a renewal that had been applied, with no token

    base = resolve_base_credentials(fc_context_py310(emulator.function_credentials), {})
    factory = ClientFactory(base, ecs_endpoint=emulator.url)
    assert factory.ecs_client("cn-hangzhou")._auto_retry is False
    gateway = EcsGateway(Caller(factory, retry=RetryPolicy(sleep=lambda _: None)))
    emulator.faults.add(action="RenewInstance", kind="apply_then_error", status=500, code="InternalError",
                        instance_id=ours, times=1)
    order = gateway.renew_instance("cn-hangzhou", ours, period=1, period_unit="Month", client_token="ecsrenew-x")
    assert emulator.renewal_count(ours) == 1 and order == emulator.instance(ours).renewals[0].order_id

    # The SDK adds no attempt of its own: a lasting 503 gets exactly our policy's attempts.
    emulator.faults.add(action="RenewInstance", kind="error", status=503, instance_id=ours, times=None)
    emulator.reset_calls()
    with pytest.raises(Exception, match="ServiceUnavailable"):
        gateway.renew_instance("cn-hangzhou", ours, period=1, period_unit="Month", client_token="ecsrenew-y")
    assert len(emulator.calls) == RetryPolicy().max_attempts


def forget_ledger(emulator, instance_id: str) -> None:
    """The renewal ledger's tags are gone (Terraform reverted them): only the ClientToken is left."""
    for key in ("ecs-renewal:intent", "ecs-renewal:renewed"):
        emulator.instance(instance_id).tags.pop(key, None)


def test_with_the_ledger_gone_the_token_still_holds_inside_the_visibility_delay(run, emulator):
    (instance_id,) = fleet(emulator, 1)
    first = run("renew-batch", {"dry_run": False})
    forget_ledger(emulator, instance_id)
    replay = run("renew-batch", {"dry_run": False})  # a Function Compute replay, inside the visibility delay
    assert replay["renewed"][0]["order_id"] == first["renewed"][0]["order_id"]
    assert emulator.renewal_count(instance_id) == 1


@pytest.mark.renewals_allowed(2)
def test_without_a_deterministic_token_a_replay_renews_twice(run, emulator, monkeypatch):
    """The detector works: with a token that differs per run and the ledger's tags gone, the replay test
    above would see 2 renewals."""
    from ecs_renewal import plan

    monkeypatch.setattr(plan, "renewal_client_token", lambda *args: f"ecsrenew-{uuid.uuid4().hex}")
    (instance_id,) = fleet(emulator, 1)
    run("renew-batch", {"dry_run": False})
    forget_ledger(emulator, instance_id)
    run("renew-batch", {"dry_run": False})  # a Function Compute replay, inside the visibility delay
    assert emulator.renewal_count(instance_id) == 2


# --- where exactly once stops: the documented limits ----------------------------------------------


def test_a_renewal_by_hand_between_a_run_and_its_replays_is_not_repeated(run, emulator):
    (instance_id,) = fleet(emulator, 1)
    first = run("renew-batch", {"dry_run": False})
    renew_by_hand(emulator, instance_id)  # someone also renews it in the console
    replay = run("renew-batch", {"dry_run": False})  # visible expiry unchanged: the ledger has the order
    assert replay["renewed"] == [] and replay["skipped"][0]["ledger"]["order_id"] == first["renewed"][0]["order_id"]
    time.sleep(VISIBLE)
    later = run("renew-batch", {"dry_run": False, "instance_ids": [instance_id]})  # named: still selected
    assert later["renewed"] == []
    # Moved by our month and the week by hand: not what one renewal does — an alert with our order id.
    (alert,) = later["ledger"]["alerts"]
    assert alert["status"] == "moved_otherwise" and alert["order_id"] == first["renewed"][0]["order_id"]
    assert emulator.renewal_count(instance_id) == 2  # ours once, by hand once


def test_limit_a_renewal_by_hand_is_invisible_to_the_token(run, emulator):
    """Limit: renewed by hand (1 week) but still in the 30-day window, the run renews it again."""
    (instance_id,) = fleet(emulator, 1)
    renew_by_hand(emulator, instance_id, period=1, unit="Week")
    time.sleep(VISIBLE)
    result = run("renew-batch", {"dry_run": False, "window_days": 30, "period": 2})
    assert [r["instance_id"] for r in result["renewed"]] == [instance_id]
    assert emulator.renewal_count(instance_id) == 2  # by hand, then ours: ECS cannot tell us apart


def test_a_window_longer_than_the_period_is_refused_before_any_call(run, emulator):
    """With window_days 30 and 1-week renewals, a renewed instance (2 + 7 = 9 days) would still be in the
    window, and a replay after the visibility delay — or the next night — would renew it again. Refused."""
    (instance_id,) = fleet(emulator, 1)
    emulator.reset_calls()
    with pytest.raises(InvalidEventError) as caught:
        run("renew-batch", {"dry_run": False, "window_days": 30, "period": 1, "period_unit": "Week"})
    assert caught.value.key == "period" and "renewed again" in str(caught.value)
    assert emulator.calls == [] and emulator.renewal_count(instance_id) == 0
