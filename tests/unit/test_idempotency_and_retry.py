"""ClientToken derivation and the retry policy's decisions (pure functions, no I/O)."""

from __future__ import annotations

import random
from datetime import datetime, timezone

from ecs_renewal.gateway.retry import RetryPolicy, is_retryable
from ecs_renewal.idempotency import renewal_client_token

EXPIRY = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)


def test_token_is_deterministic_ascii_and_within_64_chars():
    token = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert token == renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert token.isascii() and len(token) <= 64


def test_token_changes_with_every_input_of_the_decision():
    base = renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Month")
    assert base != renewal_client_token("i-bp1bbbbbbbbb", EXPIRY, 1, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY.replace(day=2), 1, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 2, "Month")
    assert base != renewal_client_token("i-bp1aaaaaaaaa", EXPIRY, 1, "Week")


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
