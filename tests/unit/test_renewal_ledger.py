"""The renewal ledger's records and what they mean (pure: no API, no clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.idempotency.renewal_ledger import (
    HOLD,
    INTENT_TAG,
    OUTCOME_TAG,
    SETTLE,
    Intent,
    LedgerStatus,
    Outcome,
    expected_expiry,
    intent_for,
    outcome_for,
    read_ledger,
)

NOW = datetime(2026, 12, 1, 23, 0, 5, tzinfo=timezone.utc)
OLD = datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc)
NEW = datetime(2027, 1, 3, 10, 0, tzinfo=timezone.utc)
ID = "i-bp1aaaaaaaaaaaaaaaaa"


def records(at: datetime = NOW, *, outcome: bool = True, instance_id: str = ID) -> dict[str, str]:
    intent = intent_for(instance_id, OLD, "1M", run="req-1", now=at)
    tags = {INTENT_TAG: intent.encode(), "env": "prod"}
    if outcome:
        tags[OUTCOME_TAG] = outcome_for(intent, "211234567890123", now=at + timedelta(seconds=2)).encode()
    return tags


def test_records_are_short_tag_values_that_read_back() -> None:
    intent = intent_for(ID, OLD, "1M", run="a-request-id-" + "x" * 60, now=NOW)
    outcome = outcome_for(intent, "211234567890123", now=NOW)
    for text in (intent.encode(), outcome.encode()):
        assert len(text) <= 128 and "http" not in text and not text.startswith("acs:")
    assert Intent.decode(intent.encode()) == Intent(NOW, intent.run[:36], OLD, "1M", intent.token)
    assert Outcome.decode(outcome.encode()) == outcome and outcome.new == NEW
    assert Intent.decode("garbage") is None and Outcome.decode("at=x") is None


def test_expected_expiry_months_weeks_and_the_unified_day() -> None:
    end_of_january = datetime(2027, 1, 31, tzinfo=timezone.utc)
    assert expected_expiry(end_of_january, "1M") == datetime(2027, 2, 28, tzinfo=timezone.utc)
    assert expected_expiry(OLD, "2W") == OLD + timedelta(weeks=2)
    assert expected_expiry(OLD, "12M") == OLD.replace(year=2027)
    assert expected_expiry(OLD, "D15") is None


@pytest.mark.parametrize(("current", "later", "status", "blocks"), [
    (NEW, timedelta(hours=3), LedgerStatus.RENEWED, True),  # a late replay, new expiry visible
    (OLD, timedelta(seconds=5), LedgerStatus.PENDING, True),  # a replay before the new expiry shows
    (OLD, SETTLE + timedelta(minutes=1), LedgerStatus.UNCONFIRMED, True),  # an order that never applied
    (expected_expiry(NEW, "1M"), timedelta(hours=1), LedgerStatus.MOVED_OTHERWISE, True),  # moved twice
    (NEW, HOLD + timedelta(minutes=1), LedgerStatus.NONE, False),  # a previous cycle: decide afresh
])
def test_an_outcome_record(current, later, status, blocks) -> None:
    view = read_ledger(ID, records(), current, NOW + later)
    assert (view.status, view.blocks_renewal) == (status, blocks)
    if status is not LedgerStatus.NONE:
        assert "211234567890123" in view.detail
    if status is LedgerStatus.RENEWED:
        assert view.detail == ("renewed by ecs-renewal at 2026-12-01T23:00:07Z, order 211234567890123, "
                               "expiry 2026-12-03T10:00Z → 2027-01-03T10:00Z")
    if status is LedgerStatus.MOVED_OTHERWISE:
        assert "moved twice" in view.detail and view.needs_alert


def test_an_intent_without_outcome_falls_back_to_the_expiry_having_moved() -> None:
    tags = records(outcome=False)
    moved = read_ledger(ID, tags, NEW, NOW + timedelta(hours=1))
    assert moved.status is LedgerStatus.RENEWED and moved.blocks_renewal and "outcome record is missing" in moved.detail
    waiting = read_ledger(ID, tags, OLD, NOW + timedelta(seconds=30))
    # Killed mid-renewal a moment ago: sent again with the same ClientToken (the token's layer).
    assert waiting.status is LedgerStatus.IN_FLIGHT and not waiting.blocks_renewal and not waiting.needs_alert
    never = read_ledger(ID, tags, OLD, NOW + SETTLE + timedelta(seconds=1))
    # Started, never applied: renewed again, with the same ClientToken (a late answer is the same order).
    assert never.status is LedgerStatus.UNCONFIRMED and not never.blocks_renewal and never.needs_alert


def test_records_copied_from_another_instance_are_ignored() -> None:
    view = read_ledger("i-bp1bbbbbbbbbbbbbbbbb", records(), NEW, NOW + timedelta(hours=1))
    assert view.status is LedgerStatus.NONE and view.foreign and not view.blocks_renewal


def test_a_newer_intent_speaks_over_an_older_outcome() -> None:
    tags = records()
    newer = intent_for(ID, NEW, "1M", run="req-2", now=NOW + timedelta(hours=2))
    tags[INTENT_TAG] = newer.encode()
    view = read_ledger(ID, tags, NEW, NOW + timedelta(hours=2, seconds=5))
    assert view.status is LedgerStatus.IN_FLIGHT and view.intent == newer and view.outcome is None


def test_a_refusal_is_recorded_and_does_not_block_the_next_attempt() -> None:
    intent = intent_for(ID, OLD, "1M", run="req-1", now=NOW)
    refused = Outcome(NOW, "", OLD, None, "1M", intent.token, failed="InvalidAccountStatus.NotEnoughBalance")
    assert len(refused.encode()) <= 128 and Outcome.decode(refused.encode()) == refused
    tags = {INTENT_TAG: intent.encode(), OUTCOME_TAG: refused.encode()}
    view = read_ledger(ID, tags, OLD, NOW + timedelta(minutes=1))
    assert view.status is LedgerStatus.REFUSED and not view.blocks_renewal
    assert view.refused_code == "InvalidAccountStatus.NotEnoughBalance"
