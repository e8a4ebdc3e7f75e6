"""Issue 14's pure parts: the deduction schedule, the funds forecast, the balance's wire form, the messages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.deductions import deduction_due_within, deduction_failed, first_deduction_at
from ecs_renewal.errors import InvalidEventError, InvalidSettingError
from ecs_renewal.funds import forecast
from ecs_renewal.gateway.bss import CHINA_ENDPOINT, INTL_ENDPOINT, Balance, amount, endpoint_for
from ecs_renewal.notify.config_alert import configuration_message, problem_of
from ecs_renewal.notify.messages import messages_for_result
from ecs_renewal.notify.silent_messages import all_clear_message
from tests.builders import all_clear, funds_forecast, region_error, renew_result, scan_result

UTC = timezone.utc


def test_the_first_deduction_is_at_0800_utc8_nine_calendar_days_before_the_expiry():
    # Expiry 2030-01-20 00:30 UTC = 08:30 UTC+8 on the 20th: first attempt 08:00 UTC+8 on the 11th = 00:00 UTC.
    assert first_deduction_at(datetime(2030, 1, 20, 0, 30, tzinfo=UTC)) == datetime(2030, 1, 11, 0, 0, tzinfo=UTC)
    # 2030-01-19 20:00 UTC is already the 20th in UTC+8: the same day counts.
    assert first_deduction_at(datetime(2030, 1, 19, 20, 0, tzinfo=UTC)) == datetime(2030, 1, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("days_left", "status", "failed"), [
    (5, "AutoRenewal", True), (0.2, "AutoRenewal", True), (12, "AutoRenewal", False), (5, "Normal", False),
    (5, "NotRenewal", False), (-1, "AutoRenewal", False),  # expired: nothing more will be tried
])
def test_a_failed_deduction_is_auto_renew_on_inside_the_last_nine_days(days_left, status, failed):
    now = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    assert deduction_failed(now + timedelta(days=days_left), status, now) is failed


def test_a_deduction_is_due_when_its_first_attempt_falls_in_the_horizon():
    now = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    nine = timedelta(days=9)
    assert deduction_due_within(now + timedelta(days=17), "AutoRenewal", now, nine)
    assert not deduction_due_within(now + timedelta(days=20), "AutoRenewal", now, nine)
    assert deduction_due_within(now + timedelta(days=3), "AutoRenewal", now, nine)  # failed: retried daily
    assert not deduction_due_within(now + timedelta(days=3), "Normal", now, nine)


def test_the_forecast_adds_renewals_and_deductions_and_counts_unknown_prices_apart():
    balance = Balance(cash=100.0, credit=50.0, available=150.0, currency="CNY")
    funds = forecast(balance, 9, [("i-a", (100.0, "CNY")), ("i-b", None)], [("i-c", (50.01, "CNY")),
                                                                            ("i-d", (9.0, "USD"))])
    assert (funds.renewals, funds.deductions, funds.due, funds.short_by) == (100.0, 50.01, 150.01, 0.01)
    assert funds.is_short and funds.as_dict()["unknown_instances"] == ["i-b", "i-d"]
    assert not forecast(balance, 9, [("i-a", (150.0, "CNY"))], []).is_short  # exactly enough is enough


def test_balance_amounts_are_strings_with_or_without_separators_and_never_guessed():
    assert amount("10,000,000.00") == 10_000_000.0 and amount("-12.50") == -12.5 and amount(3) == 3.0
    with pytest.raises(ValueError):
        amount("")
    assert Balance(cash=-20.0, credit=50.0, available=50.0, currency="CNY").spendable == 30.0  # arrears count


def test_the_balance_endpoint_follows_the_site_unless_set():
    assert endpoint_for(None) == endpoint_for("china") == CHINA_ENDPOINT
    assert endpoint_for("intl") == INTL_ENDPOINT
    assert endpoint_for("intl", ecs_endpoint="http://127.0.0.1:1") == "http://127.0.0.1:1"
    assert endpoint_for("china", explicit="http://127.0.0.1:2", ecs_endpoint="http://127.0.0.1:1") == (
        "http://127.0.0.1:2")


def test_a_configuration_message_names_the_key_where_it_is_set_and_the_fix():
    env_problem = problem_of("renew-batch", InvalidSettingError("WINDOW_DAYS", "must be from 1 to 365, got 0"))
    message = configuration_message(env_problem)
    assert "WINDOW_DAYS" in message.title and "ECS renewal" in message.title and "ECS renewal" in message.text
    assert "environment variable `WINDOW_DAYS`" in message.text and "Fix: set `WINDOW_DAYS`" in message.text
    assert "int 1..365" in message.text  # what the table says the value must be
    event_problem = problem_of("scan-expiring", InvalidEventError("window_days", "must be an integer"))
    assert "the invocation's event, key `window_days`" in configuration_message(event_problem).text


def test_the_all_clear_is_one_line_with_the_counts():
    message = all_clear_message(all_clear(prepaid_instances=1, regions=1, accounts=1, window_days=7))
    assert message.text == ("ECS renewal · scan-expiring: all clear — 1 prepaid instance checked in 1 region "
                            "(1 account), none expiring in 7 days")
    assert "\n" not in message.text


def test_an_error_is_never_an_all_clear_and_a_missing_permission_is_named():
    result = scan_result(regions=("cn-hangzhou",), all_clear=all_clear(prepaid_instances=0), errors=(
        region_error("cn-hangzhou", "Forbidden.RAM", "m", missing_action="ecs:DescribeInstances"),))
    (message,) = messages_for_result(result)
    assert "all clear" not in message.text and "missing permission: ecs:DescribeInstances" in message.text


def test_low_funds_has_a_message_of_its_own_saying_what_is_due():
    funds = funds_forecast(cash=10.0, credit=0.0, renewals=20.0, renewal_count=2, deductions=10.0,
                           deduction_count=1, horizon_days=9, currency="CNY")
    assert (funds.balance.spendable, funds.due, funds.short_by) == (10.0, 30.0, 20.0)
    result = renew_result(regions=("cn-hangzhou",), funds=funds)
    (message,) = messages_for_result(result)
    assert "low funds" in message.title and "short by 20.00 CNY" in message.title
    assert "10.00 CNY (balance + credit) does not cover the next 9 days' charges of 30.00 CNY" in message.text
