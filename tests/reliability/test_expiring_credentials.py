"""Promise 7 — expiring credentials: STS credentials that expire during a long run are refreshed (the
context's new credentials, or AssumeRole again) and the run goes on where it was, losing nothing.

The trigger is the emulator answering ``InvalidSecurityToken.Expired``: mostly for real (the key is expired
in the emulator at an exact point of the run, with a ``pass`` fault's ``then``), once as a scripted answer.

Mechanism: ``Caller.call`` refreshes once per call on that code (``Caller._refresh``: once for all threads
that hit the same expired key) through ``runtime.build_caller``'s hook: re-read the invocation's
credentials (Function Compute hands fresh ones on the context), and with ``ASSUME_ROLE_ARN`` assume the
role again — signed with the re-read credentials, which may have expired too.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.reliability.conftest import calls_of, soon
from tests.reliability.ledger import account_for

pytestmark = pytest.mark.promise(7)
EXPIRED = "InvalidSecurityToken.Expired"


class RotatingContext:
    """Function Compute's context: its credentials are read again after they expired, and are new then."""

    def __init__(self, *credentials, request_id: str = "req-long", timeout: int = 120) -> None:
        self._sets = list(credentials)
        self.reads = 0
        self.request_id = request_id
        self.function = SimpleNamespace(name="renew-batch", handler="index.handler", memory=256, timeout=timeout)

    @property
    def credentials(self) -> SimpleNamespace:
        current = self._sets[min(self.reads, len(self._sets) - 1)]
        self.reads += 1
        return SimpleNamespace(access_key_id=current.access_key_id, access_key_secret=current.access_key_secret,
                               security_token=current.security_token)


def fleet(emulator, count: int = 6) -> list[str]:
    return sorted(emulator.add_instance("cn-hangzhou", expired_time=soon()) for _ in range(count))


def expire_at_renewal(emulator, number: int, key_id) -> None:
    """When the ``number``-th RenewInstance arrives, the key expires for real (that call still passes)."""
    emulator.faults.add(action="RenewInstance", kind="pass", after=number - 1, times=1,
                        then=lambda: emulator.expire_credentials(key_id() if callable(key_id) else key_id))


def renewed_before_expiry(emulator, ids: list[str], key_id: str) -> list[str]:
    return [
        i for i in ids
        if any(c.access_key_id == key_id and c.applied for c in calls_of(emulator, "RenewInstance", i))
    ]


@pytest.fixture
def one_at_a_time(env):
    env["RENEW_CONCURRENCY"] = "1"  # the expiry then falls between two known renewals


def test_context_credentials_expire_mid_run_and_the_fresh_ones_are_used(run, emulator, one_at_a_time):
    ids = fleet(emulator)
    first = emulator.issue_sts_credentials(ttl_seconds=3600, session_name="fc-first")
    fresh = emulator.issue_sts_credentials(ttl_seconds=3600, session_name="fc-fresh")
    expire_at_renewal(emulator, 3, first.access_key_id)
    context = RotatingContext(first, fresh)

    result = run("renew-batch", {"dry_run": False}, context=context)

    assert account_for(result, ids) == set() and result["failed"] == [] and result["errors"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert context.reads == 2  # once at the start, once when the token expired
    before = renewed_before_expiry(emulator, ids, first.access_key_id)
    assert len(before) == 3
    for instance_id in before:  # progress kept: never sent again
        assert len(calls_of(emulator, "RenewInstance", instance_id)) == 1
    rejected = [c for c in emulator.calls if c.code == EXPIRED]
    assert len(rejected) == 1 and rejected[0].access_key_id == first.access_key_id
    after = emulator.calls[emulator.calls.index(rejected[0]) + 1:]
    assert after and all(c.access_key_id == fresh.access_key_id for c in after)


def test_a_scripted_expired_answer_also_refreshes_and_retries_the_same_renewal(run, emulator):
    ids = fleet(emulator, 3)
    emulator.faults.add(action="RenewInstance", kind="expire_token", instance_id=ids[1], times=1)
    context = RotatingContext(emulator.function_credentials)
    result = run("renew-batch", {"dry_run": False}, context=context)
    assert account_for(result, ids) == set() and result["failed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids) and context.reads == 2
    tokens = {c.params["ClientToken"] for c in calls_of(emulator, "RenewInstance", ids[1])}
    assert len(tokens) == 1  # the retry after the refresh is the same renewal


def test_assumed_role_credentials_expire_mid_run_and_the_role_is_assumed_again(run, env, emulator,
                                                                                one_at_a_time):
    env["ASSUME_ROLE_ARN"] = emulator.default_role_arn
    ids = fleet(emulator)

    def last_assumed_key() -> str:
        return next(c.access_key_id for c in reversed(emulator.calls) if c.action == "RenewInstance")

    expire_at_renewal(emulator, 3, last_assumed_key)
    result = run("renew-batch", {"dry_run": False})

    assert account_for(result, ids) == set() and result["failed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assumes = calls_of(emulator, "AssumeRole")
    assert len(assumes) == 2 and all(a.access_key_id == emulator.function_credentials.access_key_id for a in assumes)
    keys = [c.access_key_id for c in calls_of(emulator, "RenewInstance") if c.applied]
    assert len(set(keys)) == 2 and keys[:3] == [keys[0]] * 3  # 3 with the first role session, then the new one


def test_when_the_functions_own_credentials_expired_too_the_role_is_assumed_with_fresh_ones(run, env, emulator,
                                                                                           one_at_a_time):
    env["ASSUME_ROLE_ARN"] = emulator.default_role_arn
    ids = fleet(emulator, 4)
    own = emulator.issue_sts_credentials(ttl_seconds=3600, session_name="fc-own")
    own_fresh = emulator.issue_sts_credentials(ttl_seconds=3600, session_name="fc-own-fresh")

    def expire_both() -> None:
        assumed = next(c.access_key_id for c in reversed(emulator.calls) if c.action == "RenewInstance")
        emulator.expire_credentials(assumed)
        emulator.expire_credentials(own.access_key_id)

    emulator.faults.add(action="RenewInstance", kind="pass", after=1, times=1, then=expire_both)
    result = run("renew-batch", {"dry_run": False}, context=RotatingContext(own, own_fresh))

    assert account_for(result, ids) == set() and result["failed"] == []
    assert all(emulator.renewal_count(i) == 1 for i in ids)
    assert [a.access_key_id for a in calls_of(emulator, "AssumeRole")] == [own.access_key_id,
                                                                            own_fresh.access_key_id]


def test_credentials_that_cannot_be_refreshed_fail_the_rest_with_the_code_and_lose_nothing(run, emulator,
                                                                                          one_at_a_time):
    ids = fleet(emulator, 5)
    only = emulator.issue_sts_credentials(ttl_seconds=3600, session_name="fc-only")
    expire_at_renewal(emulator, 2, only.access_key_id)
    result = run("renew-batch", {"dry_run": False}, context=RotatingContext(only))  # nothing fresher to get

    assert account_for(result, ids) == set()
    renewed = [r["instance_id"] for r in result["renewed"]]
    assert renewed == ids[:2] and all(emulator.renewal_count(i) == 1 for i in renewed)
    assert [(r["instance_id"], r["code"]) for r in result["failed"]] == [(i, EXPIRED) for i in ids[2:]]
    assert all(emulator.renewal_count(i) == 0 for i in ids[2:])
