"""ClientToken derivation and the retry policy's decisions (pure functions, no I/O)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecs_renewal.gateway.retry import RetryPolicy, is_retryable
from ecs_renewal.idempotency import renewal_client_token

EXPIRY = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]


def test_token_is_deterministic_ascii_and_within_64_chars():
    token = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert token == renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert token.isascii() and len(token) <= 64


# Known values, computed once from the documented recipe (sha256 of "id|expiry|terms", 48 hex digits):
#   printf '%s' 'i-bp1aaaaaaaaa|2026-12-01T16:00Z|1|Month' | sha256sum | cut -c1-48
# A token that came to depend on process state (hash seed, clock, a set's order) or a changed recipe
# (which would renew every replayed instance again) fails here, not in production.
GOLDEN_TOKENS = [
    (("i-bp1aaaaaaaaa", EXPIRY, 1, "Month", None), "ecsrenew-3aae99470e6474c832a3225860af6b48b1ba2f4c30c249c9"),
    (("i-bp1aaaaaaaaa", EXPIRY, 2, "Week", None), "ecsrenew-863b4ead23aa6b6966371941e48c543cfb54e7a6c7effda7"),
    (("i-bp1aaaaaaaaa", EXPIRY, None, None, 15), "ecsrenew-386f0281e1be0a886f4325a5538f92a320846958588f329a"),
]


@pytest.mark.parametrize(("decision", "token"), GOLDEN_TOKENS)
def test_tokens_are_the_known_values(decision, token):
    assert renewal_client_token(*decision) == token


def test_token_changes_with_every_input_of_the_decision():
    base = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert base != renewal_client_token("i-bp1bbbbbbbbb", EXPIRY, 1, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY.replace(day=2), 1, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 2, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Week")
    by_day = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, None, None, expected_renew_day=15)
    assert by_day not in (base, renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, None, None, expected_renew_day=16))
    # The unified day decides the token, whatever period the run would otherwise use.
    assert by_day == renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month", expected_renew_day=15)


_KEYS_IN_A_FRESH_INTERPRETER = """
import json, sys
from datetime import datetime, timezone
from ecs_renewal.fanout import plan_shards, shard_event
from ecs_renewal.idempotency import async_task_id, reminder_key, renewal_client_token
expiry = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
shard = plan_shards(None, ["cn-hangzhou", "cn-beijing"], 1)[1]
event = shard_event({"window_days": 3, "dry_run": False, "instance_ids": ["i-bp1aaaaaaaaa"]}, shard, "req-1")
print(json.dumps([renewal_client_token("i-bp1aaaaaaaaa", expiry, 1, "Month"),
                  renewal_client_token("i-bp1aaaaaaaaa", expiry, None, None, 15),
                  async_task_id("renew-batch", event), reminder_key("i-a", 7, "2026-11-25")]))
"""


def test_keys_are_the_same_in_interpreters_with_different_hash_seeds():
    """Two processes (a run and its replay) must derive the same keys: compare across interpreters whose
    str hashes, and so set and dict-of-set orders, differ."""
    outputs = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT / "shared")}
        done = subprocess.run([sys.executable, "-c", _KEYS_IN_A_FRESH_INTERPRETER], env=env, check=True,
                              capture_output=True, text=True)
        outputs.add(done.stdout)
    assert len(outputs) == 1
    tokens = json.loads(outputs.pop())
    assert tokens[:2] == [GOLDEN_TOKENS[0][1], GOLDEN_TOKENS[2][1]]


def test_what_is_retried():
    for code in ("Throttling", "Throttling.User", "Throttling.Api", "ServiceUnavailable", "InternalError",
                 "SDK.HttpError", "LastTokenProcessing"):
        assert is_retryable(code, 400)
    assert is_retryable("WhateverGateway", 502)
    for code in ("InvalidAccountStatus.NotEnoughBalance", "ChargeTypeViolation", "InvalidParameter",
                 "IdempotenceParamNotMatch", "Forbidden.RAM", "InstanceLockedForSecurity"):
        assert not is_retryable(code, 403)


def test_backoff_is_jittered_capped_and_bounded_by_attempts_and_deadline():
    policy = RetryPolicy(max_attempts=4, base_delay=0.2, max_delay=1.0, rng=random.Random(1))
    pauses = [policy.should_retry(n, "InternalError", 500) for n in range(4)]
    assert all(p is not None and 0 <= p <= 1.0 for p in pauses[:3])
    assert pauses[3] is None  # the fourth attempt was the last
    assert policy.should_retry(0, "ChargeTypeViolation", 403) is None

    now = [100.0]
    late = RetryPolicy(deadline=100.05, clock=lambda: now[0], base_delay=10, max_delay=10, rng=random.Random(3))
    assert late.should_retry(0, "InternalError", 500) is None  # would end after the deadline
