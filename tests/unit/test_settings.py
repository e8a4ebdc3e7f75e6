"""Settings: every bad-input class of the contract names its key; the environment is the default."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from ecs_renewal.errors import InvalidEventError, InvalidSettingError
from ecs_renewal.settings import build_settings, parse_event

NOW = datetime(2026, 11, 25, 3, 4, 59, tzinfo=timezone.utc)
ENV = {"REGIONS": "cn-hangzhou,cn-shanghai"}


def settings(event, job="renew-batch", env=ENV):
    return build_settings(job, event, env, now=NOW)


def test_defaults_come_from_the_contract():
    s = settings(b"")
    assert s.regions == ("cn-hangzhou", "cn-shanghai")
    assert s.dry_run is True  # money safety: dry run unless said otherwise
    assert (s.period, s.period_unit, s.max_instances) == (1, "Month", 50)
    assert (s.expected_auto_renew, s.duration, s.fix) == (True, 1, False)
    assert s.window.start == datetime(2026, 11, 25, 3, 4, tzinfo=timezone.utc)
    assert s.window.end - s.window.start == timedelta(days=7)
    assert str(s.exclude_tag) == "renewal=manual"


@pytest.mark.parametrize("event", [None, b"", "", "  ", {}, b"{}"])
def test_empty_input_means_no_overrides(event):
    assert settings(event).regions == ("cn-hangzhou", "cn-shanghai")


def test_event_overrides_environment_and_bytes_str_dict_agree():
    event = {"regions": ["ap-southeast-1"], "window_days": 30, "dry_run": False, "period": 12}
    for form in (event, json.dumps(event), json.dumps(event).encode()):
        s = settings(form)
        assert s.regions == ("ap-southeast-1",)
        assert s.dry_run is False and s.period == 12
        assert s.window.end - s.window.start == timedelta(days=30)


def test_environment_values_are_parsed_and_validated():
    env = {**ENV, "DRY_RUN": "false", "WINDOW_DAYS": "14", "MAX_RENEWALS": "3", "RENEW_PERIOD_UNIT": "Week",
           "RENEW_PERIOD": "2", "AUTO_RENEW_DURATION": "6", "EXPECTED_AUTO_RENEW": "no", "AUTO_RENEW_FIX": "1"}
    s = settings(None, env=env)
    assert (s.dry_run, s.max_instances, s.period_unit, s.period, s.duration) == (False, 3, "Week", 2, 6)
    assert s.expected_auto_renew is False and s.fix is True
    with pytest.raises(InvalidSettingError, match="WINDOW_DAYS"):
        settings(None, env={**ENV, "WINDOW_DAYS": "soon"})
    with pytest.raises(InvalidSettingError, match="AUTO_RENEW_DURATION"):
        settings(None, env={**ENV, "AUTO_RENEW_DURATION": "5"})


def test_timer_trigger_payload_is_read_as_overrides():
    timer = {"triggerTime": "2026-11-25T01:00:00Z", "triggerName": "nightly", "payload": '{"window_days": 3}'}
    assert settings(json.dumps(timer)).window.end - NOW.replace(second=0) == timedelta(days=3)
    label = {**timer, "payload": "nightly-run"}
    assert settings(label).window.end - NOW.replace(second=0) == timedelta(days=7)


def test_explicit_window():
    s = settings({"expired_start": "2026-12-01T00:00Z", "expired_end": "2026-12-08T12:30Z"})
    assert s.window.as_dict() == {"start": "2026-12-01T00:00Z", "end": "2026-12-08T12:30Z"}


@pytest.mark.parametrize(
    ("event", "key"),
    [
        ({"bogus": 1}, "bogus"),
        ({"regions": "cn-hangzhou"}, "regions"),
        ({"regions": []}, "regions"),
        ({"regions": ["cn_hangzhou"]}, "regions"),
        ({"regions": ["evil-region-1; drop"]}, "regions"),
        ({"window_days": 0}, "window_days"),
        ({"window_days": 366}, "window_days"),
        ({"window_days": "7"}, "window_days"),
        ({"window_days": True}, "window_days"),
        ({"window_days": 7.5}, "window_days"),
        ({"expired_start": "2026-12-01T00:00Z"}, "expired_end"),
        ({"expired_end": "2026-12-01T00:00Z"}, "expired_start"),
        ({"expired_start": "2026-12-01T00:00:00Z", "expired_end": "2026-12-02T00:00Z"}, "expired_start"),
        ({"expired_start": "2026-12-01 00:00", "expired_end": "2026-12-02T00:00Z"}, "expired_start"),
        ({"expired_start": "2026-12-02T00:00Z", "expired_end": "2026-12-01T00:00Z"}, "expired_end"),
        ({"expired_start": "2026-12-01T00:00Z", "expired_end": "2026-12-02T00:00Z", "window_days": 3},
         "window_days"),
        ({"dry_run": "false"}, "dry_run"),
        ({"dry_run": 0}, "dry_run"),
        ({"instance_ids": ["i-123"]}, "instance_ids"),
        ({"instance_ids": "i-bp1abcdefgh"}, "instance_ids"),
        ({"instance_ids": []}, "instance_ids"),
        ({"period": 0}, "period"),
        ({"period": 10}, "period"),
        ({"period_unit": "Year"}, "period_unit"),
        ({"period_unit": "Week", "period": 5}, "period"),
        ({"max_instances": 0}, "max_instances"),
        ({"expected_auto_renew": "yes"}, "expected_auto_renew"),
        ({"duration": 4}, "duration"),
        ({"duration": True}, "duration"),
        ({"fix": None}, "fix"),
    ],
)
def test_invalid_events_name_the_key(event, key):
    with pytest.raises(InvalidEventError) as caught:
        settings(json.dumps(event).encode())
    assert caught.value.key == key
    assert repr(key) in str(caught.value)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"[1, 2]", b"not json", b'"a string"', b"x" * 200_000])
def test_malformed_events_are_refused_as_a_whole(raw):
    with pytest.raises(InvalidEventError) as caught:
        parse_event(raw)
    assert caught.value.key == "event"


def test_missing_regions_is_an_error_that_says_where_to_set_them():
    with pytest.raises(InvalidEventError, match="REGIONS"):
        settings(None, env={})


def test_duplicate_ids_are_collapsed_in_order():
    s = settings({"instance_ids": ["i-bp1aaaaaaaaa", "i-bp1bbbbbbbbb", "i-bp1aaaaaaaaa"]})
    assert s.instance_ids == ("i-bp1aaaaaaaaa", "i-bp1bbbbbbbbb")


def test_keys_of_another_job_are_accepted_but_reported():
    assert settings({"fix": True}, job="scan-expiring").ignored_keys == ("fix",)


def test_bad_endpoint_and_role_settings():
    with pytest.raises(InvalidSettingError, match="ECS_ENDPOINT"):
        settings(None, env={**ENV, "ECS_ENDPOINT": "127.0.0.1:18080"})
    with pytest.raises(InvalidSettingError, match="ASSUME_ROLE_ARN"):
        settings(None, env={**ENV, "ASSUME_ROLE_ARN": "my-role"})
