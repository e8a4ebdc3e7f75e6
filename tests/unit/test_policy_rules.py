"""Per-instance tag rules, reminder tiers, price queries, failure advice, the notification ledger."""

from __future__ import annotations

import pytest

from ecs_renewal.errors import InvalidSettingError
from ecs_renewal.notify.advice import UNKNOWN, advice_for
from ecs_renewal.notify.ledger import NotificationLedger, reminder_key
from ecs_renewal.pricing import estimate, price_query
from ecs_renewal.tag_rules import RenewalTerms, TagNames, owner_of, renewal_terms
from ecs_renewal.tiers import EXPIRED, parse_tiers, tier_label, tier_of

NAMES = TagNames()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({}, RenewalTerms(1, "Month")),
        ({"renewal-period": "3"}, RenewalTerms(3, "Month", from_tags=True)),
        ({"renewal-period": "2", "renewal-unit": "Week"}, RenewalTerms(2, "Week", from_tags=True)),
        ({"renewal-unit": "Month", "renewal-period": "12"}, RenewalTerms(12, "Month", from_tags=True)),
        ({"renewal-day": "15"}, RenewalTerms(None, None, 15, from_tags=True)),
    ],
)
def test_valid_tag_rules(tags, expected):
    assert renewal_terms(tags, NAMES, 1, "Month", unified_day=15) == expected


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({"renewal-period": "three"}, "not a whole number"),
        ({"renewal-period": "10"}, "not renewable in Months"),
        ({"renewal-period": "5", "renewal-unit": "Week"}, "not renewable in Weeks"),
        ({"renewal-unit": "Year"}, "not Month or Week"),
        ({"renewal-day": "31"}, "not a day from 1 to 28"),
        ({"renewal-day": "0"}, "not a day from 1 to 28"),
        ({"renewal-day": "5", "renewal-period": "1"}, "conflict"),
    ],
)
def test_invalid_tag_values_are_a_reason_never_a_guess(tags, fragment):
    reason = renewal_terms(tags, NAMES, 1, "Month")
    assert isinstance(reason, str) and fragment in reason


@pytest.mark.parametrize(
    ("tags", "unified_day", "fragment"),
    [
        # RenewInstance fails ExpectedRenewDay unless it is the account's unified expiry day: a skip, not a call.
        ({"renewal-day": "15"}, None, "has no unified expiry day"),
        ({"renewal-day": "15"}, 10, "not the account's unified expiry day (10"),
    ],
)
def test_a_renewal_day_needs_the_accounts_unified_expiry_day(tags, unified_day, fragment):
    reason = renewal_terms(tags, NAMES, 1, "Month", unified_day=unified_day)
    assert isinstance(reason, str) and fragment in reason


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [({"renewal-period": "24"}, "not renewable in Months on the intl site"),
     ({"renewal-unit": "Week", "renewal-period": "1"}, "not a renewal unit on the intl site")],
)
def test_the_international_site_terms(tags, fragment):
    assert renewal_terms({"renewal-period": "12"}, NAMES, 1, "Month", site="intl") == RenewalTerms(
        12, "Month", from_tags=True)
    reason = renewal_terms(tags, NAMES, 1, "Month", site="intl")
    assert isinstance(reason, str) and fragment in reason
    assert isinstance(renewal_terms(tags, NAMES, 1, "Month", site="china"), RenewalTerms)


def test_tag_names_are_configurable_and_validated():
    names = TagNames.from_environ({"TAG_RENEWAL_PERIOD": "term"})
    assert renewal_terms({"term": "6"}, names, 1, "Month") == RenewalTerms(6, "Month", from_tags=True)
    with pytest.raises(InvalidSettingError, match="TAG_OWNER"):
        TagNames.from_environ({"TAG_OWNER": "has space"})


def test_owners():
    assert owner_of({"owner": "13800138000"}, NAMES).mobile == "13800138000"
    assert owner_of({"owner": "+8613800138000"}, NAMES).mobile == "8613800138000"
    assert owner_of({"owner": "zhang_san"}, NAMES).user_id == "zhang_san"
    assert owner_of({"owner": "not valid!"}, NAMES) is None
    assert owner_of({}, NAMES) is None


@pytest.mark.parametrize(
    ("days", "tier"),
    [(-0.01, EXPIRED), (0, 1), (0.5, 1), (1, 1), (1.01, 3), (6.99, 7), (7, 7), (7.01, 15), (30, 30), (31, None)],
)
def test_tiers_at_the_edges(days, tier):
    assert tier_of(days) == tier


def test_tier_config():
    assert parse_tiers({}) == (30, 15, 7, 3, 1)
    assert parse_tiers({"ALERT_TIERS": "7, 1,14"}) == (14, 7, 1)
    for bad in ("soon", "0", "400"):
        with pytest.raises(InvalidSettingError, match="ALERT_TIERS"):
            parse_tiers({"ALERT_TIERS": bad})
    assert tier_label(EXPIRED) == "expired" and tier_label(7) == "≤ 7 days" and tier_label(1) == "≤ 1 day"


def test_price_queries_follow_describe_renewal_price_units():
    assert price_query(RenewalTerms(3, "Month")) == (3, "Month")
    assert price_query(RenewalTerms(12, "Month")) == (1, "Year")
    assert price_query(RenewalTerms(36, "Month")) == (3, "Year")
    assert price_query(RenewalTerms(48, "Month")) is None  # not offered: unknown, never zero
    assert price_query(RenewalTerms(2, "Week")) is None


def test_estimate_keeps_unknown_prices_apart():
    cost = estimate([("a", (100.0, "CNY")), ("b", None), ("c", (50.5, "CNY"))])
    assert cost.as_dict() == {"amount": 150.5, "currency": "CNY", "priced": 2, "unknown": 1}


def test_advice():
    meaning, action = advice_for("InvalidAccountStatus.NotEnoughBalance")
    assert "balance" in meaning and "top up" in action
    assert advice_for("InvalidSecurityToken.Expired")[0].startswith("the STS credentials")
    assert advice_for("Something.New") == UNKNOWN


def test_ledger_remembers_for_a_day(tmp_path):
    now = [1_000_000.0]
    ledger = NotificationLedger(str(tmp_path), clock=lambda: now[0])
    keys = {reminder_key("i-a", 7, "2026-11-25"), reminder_key("i-b", 3, "2026-11-25")}
    assert ledger.unseen(keys) == keys
    ledger.remember(keys)
    assert ledger.unseen(keys) == set()
    now[0] += 24 * 3600 + 1
    assert ledger.unseen(keys) == keys
