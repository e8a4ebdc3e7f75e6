"""renew-batch writes the ledger's intents while it asks the prices (issue 12: the TagResources lane is idle
then), before it has decided; a limit that stops the plan withdraws them; a run killed in between leaves
intents that only make the next run renew once, with the same ClientToken (``renewal_ledger.py``,
"Early intents"). Real handlers, real SDK, the emulator over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.idempotency import renewal_client_token
from ecs_renewal.jobs import renew as renew_job

INTENT = "ecs-renewal:intent"


def soon(days: float = 2) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


def fleet(emulator, count: int, region: str = "cn-hangzhou", expiry: datetime | None = None) -> list[str]:
    return sorted(emulator.add_instance(region, expired_time=expiry or soon()) for _ in range(count))


def intent_writes(emulator) -> list:
    return [c for c in emulator.calls if c.action == "TagResources" and c.params.get("Tag.1.Key") == INTENT]


def first_index(emulator, action: str) -> int:
    return next(n for n, call in enumerate(emulator.calls) if call.action == action)


def test_the_intents_are_written_while_pricing_before_any_renewal(run, env, emulator):
    env["REGIONS"] = "cn-hangzhou,cn-shanghai"
    ids = fleet(emulator, 4) + fleet(emulator, 3, "cn-shanghai")
    result = run("renew-batch", {"dry_run": False})
    assert sorted(r["instance_id"] for r in result["renewed"]) == sorted(ids) and result["failed"] == []
    writes = intent_writes(emulator)
    assert sorted(c.params["ResourceId.1"] for c in writes) == sorted(ids)  # one intent each, no more
    first_renewal = first_index(emulator, "RenewInstance")
    assert all(emulator.calls.index(c) < first_renewal for c in writes)  # all of them before the decision
    assert first_index(emulator, "QueryAccountBalance") < first_renewal  # ... which came after the prices
    assert result["api_calls"]["TagResources"] == 2 * len(ids) and "UntagResources" not in result["api_calls"]
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert result["ledger"]["intents_written"] == len(ids) and result["ledger"]["outcomes_written"] == len(ids)


@pytest.mark.parametrize("limit", ["budget", "funds"])
def test_a_stopped_plan_withdraws_its_intents(run, emulator, limit):
    ids = fleet(emulator, 3)
    event = {"dry_run": False}
    if limit == "budget":
        event["max_cost"] = 1.0
    else:
        emulator.balance = 1.0  # cash + credit cannot pay the plan (issue 14)
    result = run("renew-batch", event)
    assert result["renewed"] == [] and (result.get("budget_exceeded") or result.get("funds_short"))
    assert "RenewInstance" not in result["api_calls"]
    assert len(intent_writes(emulator)) == 3  # written while pricing ...
    (untag,) = [c for c in emulator.calls if c.action == "UntagResources"]  # ... and withdrawn in one call
    assert sorted(v for k, v in untag.params.items() if k.startswith("ResourceId.")) == ids
    assert untag.params["TagKey.1"] == INTENT
    assert all(INTENT not in emulator.instance(i).tags for i in ids)  # the instances are as they were
    assert result["ledger"]["intents_withdrawn"] == 3


def test_a_failed_withdrawal_is_said_and_the_next_run_renews_once_with_the_same_token(run, emulator, log_lines):
    ids = fleet(emulator, 2)
    emulator.faults.add(action="UntagResources", kind="error", status=403, code="Forbidden.RAM", times=1)
    stopped = run("renew-batch", {"dry_run": False, "max_cost": 1.0})
    assert stopped["renewed"] == [] and stopped["budget_exceeded"]
    assert stopped["ledger"]["leftover_intents"] == [{"region": "cn-hangzhou", "instances": ids,
                                                      "code": "Forbidden.RAM"}]
    assert '"ledger_withdraw_failed"' in log_lines.getvalue()
    assert all(INTENT in emulator.instance(i).tags for i in ids)  # left behind: harmless

    later = run("renew-batch", {"dry_run": False}, request_id="req-2")
    assert sorted(r["instance_id"] for r in later["renewed"]) == ids and later["failed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)


class Killed(BaseException):
    """Function Compute ends the invocation (timeout, crash): nothing in the handler catches it."""


def test_a_run_killed_between_its_intents_and_its_decision_is_renewed_once_by_the_next(run, emulator, monkeypatch):
    expiry = soon().replace(second=0, microsecond=0)  # what DescribeInstances shows (to the minute)
    ids = fleet(emulator, 3, expiry=expiry)

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(renew_job, "plan_renewals", killed)  # after the prices and the intents, before deciding
        with pytest.raises(Killed):
            run("renew-batch", {"dry_run": False})
    assert sorted(c.params["ResourceId.1"] for c in intent_writes(emulator)) == ids
    assert all(emulator.renewal_count(i) == 0 for i in ids)

    replay = run("renew-batch", {"dry_run": False})  # Function Compute's replay: the intents are in_flight
    assert sorted(r["instance_id"] for r in replay["renewed"]) == ids and replay["failed"] == []
    assert replay["ledger"]["in_flight"] == 3
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    tokens = {c.params["InstanceId"]: c.params["ClientToken"] for c in emulator.calls if c.action == "RenewInstance"}
    assert tokens == {i: renewal_client_token(i, expiry, 1, "Month") for i in ids}


def test_a_dry_run_writes_no_intent(run, emulator):
    fleet(emulator, 3)
    result = run("renew-batch")
    assert result["dry_run"] is True and len(result["renewed"]) == 3
    assert intent_writes(emulator) == [] and "TagResources" not in result["api_calls"]


def test_a_plan_awaiting_approval_writes_no_intent(run, env, emulator, tmp_path):
    env.update(APPROVAL="required", APPROVAL_SECRET="s" * 32, APPROVAL_STORE_DIR=str(tmp_path / "store"),
               APPROVAL_URL="https://approve.example/approve", DRY_RUN="false")
    ids = fleet(emulator, 3)
    result = run("renew-batch")
    assert result["approval"]["entries"] == 3 and all(emulator.renewal_count(i) == 0 for i in ids)
    assert intent_writes(emulator) == [] and "TagResources" not in result["api_calls"]


def test_a_capped_run_writes_no_intent(run, emulator):
    fleet(emulator, 3)
    result = run("renew-batch", {"dry_run": False, "max_instances": 2})
    assert result["cap_exceeded"] and intent_writes(emulator) == []
    assert "TagResources" not in result["api_calls"] and "UntagResources" not in result["api_calls"]


def test_a_stopped_plan_leaves_an_earlier_runs_intent_as_it_was(run, emulator, monkeypatch):
    """An intent the run did not write (a killed run's: its RenewInstance may have reached ECS) is the
    record a later run needs: a stopped plan neither rewrites nor withdraws it."""
    ids = fleet(emulator, 2)
    with monkeypatch.context() as patch:
        patch.setattr(renew_job, "plan_renewals", lambda *a, **k: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            run("renew-batch", {"dry_run": False}, request_id="req-killed")
    before = {i: emulator.instance(i).tags[INTENT] for i in ids}
    stopped = run("renew-batch", {"dry_run": False, "max_cost": 1.0}, request_id="req-2")
    assert stopped["renewed"] == [] and stopped["budget_exceeded"]
    assert "UntagResources" not in stopped["api_calls"] and "TagResources" not in stopped["api_calls"]
    assert {i: emulator.instance(i).tags[INTENT] for i in ids} == before
