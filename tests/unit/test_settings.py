"""Settings: every bad-input class of the contract names its key; the environment is the default."""

from __future__ import annotations

import ast
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

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


# --- one table: every environment variable raises like the rest; the README is derived ---------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("name", "value"), [
    ("ECS_READ_TIMEOUT", "soon"), ("ECS_READ_TIMEOUT", "0"), ("ECS_READ_TIMEOUT", "-5"),
    ("FUNCTION_TIMEOUT_SECONDS", "fifteen minutes"), ("FUNCTION_TIMEOUT_SECONDS", "0"),
    ("FUNCTION_TIMEOUT_SECONDS", "nan"), ("SHARD_SIZE", "-1"), ("SHARD_SIZE", "lots"),
    ("ECS_MAX_QPS", "fast"), ("REGION_CONCURRENCY", "65"), ("ALERT_TIERS", "soon"), ("TAG_OWNER", "a b"),
    ("ALERT_TIMEZONE", "Mars/Olympus"), ("RENEW_AUTO_RENEWING", "maybe"), ("STS_ENDPOINT", "sts"),
])
def test_every_invalid_variable_raises_naming_it(name, value):
    with pytest.raises(InvalidSettingError) as caught:
        settings(None, env={**ENV, name: value})
    assert caught.value.key == name


@pytest.mark.parametrize("job", ["scan-expiring", "renew-batch", "audit-autorenew"])
def test_a_bad_timeout_stops_the_run_before_any_call(job, mocker):
    from ecs_renewal.runtime import run_job

    sdk = mocker.patch("aliyunsdkcore.client.AcsClient.do_action_with_exception")
    for name in ("ECS_READ_TIMEOUT", "FUNCTION_TIMEOUT_SECONDS"):
        with pytest.raises(InvalidSettingError) as caught:
            run_job(job, b"", None, environ={
                "REGIONS": "cn-hangzhou", name: "abc", "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.x",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s", "ALIBABA_CLOUD_SECURITY_TOKEN": "t",
            })
        assert caught.value.key == name
    sdk.assert_not_called()


def test_explicit_beats_environment_beats_default():
    from ecs_renewal.settings import environment_value

    assert environment_value("FUNCTION_TIMEOUT_SECONDS", {}) == 900.0
    assert environment_value("FUNCTION_TIMEOUT_SECONDS", {"FUNCTION_TIMEOUT_SECONDS": "60"}) == 60.0
    assert environment_value("FUNCTION_TIMEOUT_SECONDS", {"FUNCTION_TIMEOUT_SECONDS": "60"}, explicit=120) == 120.0
    assert environment_value("ECS_READ_TIMEOUT", {"ECS_READ_TIMEOUT": " 30 "}) == 30
    assert environment_value("SHARD_SIZE", {"SHARD_SIZE": "0"}) >= 10**9  # 0 = never fan out
    assert settings({"dry_run": False}, env={**ENV, "DRY_RUN": "true"}).dry_run is False


def test_an_empty_exclude_tag_turns_it_off_while_unset_means_the_default():
    assert settings(None, env={**ENV, "RENEW_EXCLUDE_TAG": ""}).exclude_tag is None
    assert str(settings(None, env=ENV).exclude_tag) == "renewal=manual"


def test_the_readme_configuration_block_is_the_declaration():
    from ecs_renewal.config import markdown

    block = markdown.block_in((ROOT / "README.md").read_text(encoding="utf-8"))
    assert block is not None, f"README.md has no {markdown.BEGIN} ... {markdown.END} block"
    assert block == markdown.render(), (
        "README.md's configuration table differs from config/table.py: "
        "run `PYTHONPATH=shared python -m ecs_renewal.settings --write README.md`")


def test_a_changed_declaration_would_fail_the_readme_check(monkeypatch):
    from ecs_renewal.config import markdown, table

    before = markdown.render()
    changed = (table.EVENT_SETTINGS[0]._replace(default_text="cn-hangzhou"), *table.EVENT_SETTINGS[1:])
    monkeypatch.setattr(markdown, "EVENT_SETTINGS", changed)
    assert markdown.render() != before


def _environment_names_read_by_the_code() -> set[str]:
    """Every string literal used as an environment variable name in shared/ecs_renewal (get, [] or a name
    list), so that a variable read anywhere but not declared fails here."""
    names: set[str] = set()
    for path in (ROOT / "shared" / "ecs_renewal").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "get", "pop") and "environ" in ast.unparse(node.func.value) and node.args:
                target = node.args[0]
            elif isinstance(node, ast.Subscript) and "environ" in ast.unparse(node.value):
                target = node.slice
            else:
                continue
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                names.add(target.value)
    return names


def test_every_variable_the_code_reads_is_declared():
    from ecs_renewal.credentials import SDK_STATIC_KEY_VARS
    from ecs_renewal.settings import ENVIRONMENT_VARIABLES

    read = _environment_names_read_by_the_code() | set(SDK_STATIC_KEY_VARS)
    assert len(read) > 20  # the scan finds the reads (a broken scan would pass vacuously)
    assert read - set(ENVIRONMENT_VARIABLES) == set()


def test_cli_flags_are_derived_from_the_table():
    from ecs_renewal.cli.jobs import FLAG_OF, KEYS_OF
    from ecs_renewal.config.table import BY_NAME

    assert FLAG_OF["window_days"] == "--days" and FLAG_OF["fix"] == "--fix/--no-fix"
    assert set(KEYS_OF["renew"]) >= {"period", "period_unit", "max_instances", "instance_ids", "dry_run"}
    for command, keys in KEYS_OF.items():
        job = {"scan": "scan-expiring", "renew": "renew-batch", "audit": "audit-autorenew"}[command]
        assert all(job in BY_NAME[key].jobs and BY_NAME[key].flag for key in keys)
