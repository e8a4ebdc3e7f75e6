"""Promise 4 — bad input changes nothing: property-based (hypothesis) against each handler.

Every generated event is either run as valid settings, or raises the contract's ``InvalidEventError``
naming a key — never another exception — and an invalid one leaves the emulator with zero recorded calls.

Two kinds of generators:

* *labelled*: a valid event (by construction from the contract), optionally with exactly one defect
  (wrong type, out of range, malformed window, unknown key, huge list, a malformed id ...), so the test
  knows which key must be named;
* *garbage*: arbitrary JSON values, random bytes (mostly not UTF-8), oversized and deeply nested
  payloads, timer envelopes with anything as ``payload``, raw Python objects instead of bytes.

Mechanism: ``settings.build_settings`` validates the whole event (ids against their real formats,
``REGION_RE`` / ``INSTANCE_ID_RE``) before ``runtime.run_job`` builds a client.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecs_emulator import REGIONS, Emulator
from ecs_emulator.fleet import new_instance_id
from ecs_renewal import logs
from ecs_renewal.errors import InvalidEventError
from ecs_renewal.settings import (
    AUTO_RENEW_DURATIONS,
    EVENT_KEYS,
    INSTANCE_ID_RE,
    MAX_EVENT_BYTES,
    REGION_RE,
    RENEW_PERIODS,
    TIMER_KEYS,
)
from tests.handlers import FUNCTIONS, PROJECT_ENV, fc_context, invoke
from tests.reliability.ledger import LEDGER

pytestmark = pytest.mark.promise(4)

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run: a red suite is reproducible
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
        HealthCheck.filter_too_much, HealthCheck.large_base_example,
    ],
)


@pytest.fixture(scope="module")
def fuzz_emulator() -> Iterator[Emulator]:
    """One emulator for all examples (empty fleet: a valid random event is still harmless)."""
    # Hundreds of examples against one emulator, paced at ECS_MAX_QPS=2000: this measures input validation,
    # not throttling, so the emulator's quotas (and their minute blocks) are off here on purpose.
    with Emulator(fleet=None, renew_visibility_delay=1.0, throttling=False) as emu, \
            pytest.MonkeyPatch.context() as patch:
        for name in PROJECT_ENV:
            patch.delenv(name, raising=False)
        patch.setenv("REGIONS", "cn-hangzhou")
        patch.setenv("ECS_ENDPOINT", emu.url)
        patch.setenv("STS_ENDPOINT", emu.url)
        patch.setenv("ECS_MAX_QPS", "2000")
        patch.setattr(logs, "_default_stream", _Discard())
        yield emu


class _Discard:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


# --- the contract's valid values --------------------------------------------------------------------

MINUTE = "%Y-%m-%dT%H:%MZ"
region_ids = st.sampled_from(sorted(REGIONS)) | st.from_regex(REGION_RE, fullmatch=True).filter(
    lambda r: len(r) <= 40
)
instance_ids = st.from_regex(INSTANCE_ID_RE, fullmatch=True)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=timezone.utc)
)
periods = st.sampled_from([(unit, p) for unit, allowed in RENEW_PERIODS.items() for p in allowed])

VALID: dict[str, st.SearchStrategy[Any]] = {
    "regions": st.lists(region_ids, min_size=1, max_size=3),
    "window_days": st.integers(1, 365),
    "dry_run": st.booleans(),
    "instance_ids": st.lists(instance_ids, min_size=1, max_size=4),
    "max_instances": st.integers(1, 10_000),
    "expected_auto_renew": st.booleans(),
    "duration": st.sampled_from(AUTO_RENEW_DURATIONS),
    "fix": st.booleans(),
}


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event = {key: draw(strategy) for key, strategy in VALID.items() if draw(st.booleans())}
    if draw(st.booleans()):
        event.pop("window_days", None)
        start = draw(moments)
        event["expired_start"] = start.strftime(MINUTE)
        event["expired_end"] = (start + timedelta(minutes=draw(st.integers(1, 366 * 24 * 60)))).strftime(MINUTE)
    unit, period = draw(periods)
    shape = draw(st.sampled_from(["both", "period", "unit", "neither"]))
    if shape in ("both", "unit"):
        event["period_unit"] = unit
    if shape == "both" or (shape == "period" and unit == "Month"):
        event["period"] = period
    return _fit_window_to_period(event)


def _fit_window_to_period(event: dict[str, Any]) -> dict[str, Any]:
    """renew-batch refuses a window longer than one renewal (the instance would be renewed again); a
    valid event keeps it within, so the same event is valid for every function."""
    if "instance_ids" in event:
        return event
    unit, period = event.get("period_unit", "Month"), event.get("period", 1)
    longest = timedelta(days=period * (7 if unit == "Week" else 28))
    if "expired_start" in event:
        start = datetime.strptime(event["expired_start"], MINUTE)
        end = min(datetime.strptime(event["expired_end"], MINUTE), start + longest)
        event["expired_end"] = end.strftime(MINUTE)
    else:
        event["window_days"] = min(event.get("window_days", 7), longest.days)
    return event


# --- one defect, and the key it must be reported under ---------------------------------------------

not_a_list = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.dictionaries(
    st.text(max_size=3), st.integers(), max_size=2))
not_an_int = st.one_of(st.none(), st.booleans(), st.floats(), st.text(max_size=6), st.lists(st.integers(), max_size=2))
not_a_bool = st.one_of(st.none(), st.integers(), st.sampled_from(["true", "false", "yes", "1", ""]), st.floats())
bad_region = st.text(max_size=30).filter(lambda r: not REGION_RE.fullmatch(r)) | st.integers()
bad_instance = st.text(max_size=40).filter(lambda r: not INSTANCE_ID_RE.fullmatch(r)) | st.none()
bad_minute = st.one_of(
    st.none(), st.integers(), st.text(max_size=20).filter(lambda t: not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", t)),
    moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),  # seconds: not the filter format
    moments.map(lambda m: m.strftime("%Y-%m-%d")),
)
unknown_keys = st.text(min_size=1, max_size=30).filter(lambda k: k not in EVENT_KEYS and k not in TIMER_KEYS)

DEFECTS: dict[str, st.SearchStrategy[Any]] = {
    "regions": st.one_of(
        not_a_list, st.just([]),
        st.lists(region_ids, min_size=101, max_size=300),  # huge list
        st.tuples(st.lists(region_ids, max_size=2), bad_region).map(lambda t: [*t[0], t[1]]),
    ),
    "window_days": st.one_of(not_an_int, st.integers(max_value=0), st.integers(min_value=366)),
    "dry_run": not_a_bool,
    "fix": not_a_bool,
    "expected_auto_renew": not_a_bool,
    "instance_ids": st.one_of(
        not_a_list, st.just([]),
        st.lists(instance_ids, min_size=1001, max_size=1200).filter(lambda ids: len(set(ids)) > 1000),
        st.tuples(st.lists(instance_ids, max_size=2), bad_instance).map(lambda t: [*t[0], t[1]]),
    ),
    "period": st.one_of(not_an_int, st.integers(max_value=0), st.integers(min_value=61),
                        st.sampled_from([10, 11, 13, 18, 25, 59])),
    "period_unit": st.one_of(st.none(), st.integers(), st.sampled_from(["Year", "month", "Day", "", "Weeks"])),
    "max_instances": st.one_of(not_an_int, st.integers(max_value=0), st.integers(min_value=10_001)),
    "duration": st.one_of(st.none(), st.text(max_size=3), st.sampled_from([0, 4, 5, 7, 24, True])),
}


@st.composite
def defective_events(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    event = draw(valid_events())
    kind = draw(st.sampled_from([*DEFECTS, "unknown", "one-ended", "reversed", "too-long", "mixed-window"]))
    if kind in DEFECTS:
        event[kind] = draw(DEFECTS[kind])
        if kind == "period":
            event.pop("period_unit", None)  # the defect is the period alone (Month by default)
        return event, kind
    if kind == "unknown":
        key = draw(unknown_keys)
        event[key] = draw(st.integers() | st.text(max_size=5))
        return event, key[:64]
    event.pop("window_days", None)
    start = draw(moments)
    if kind == "one-ended":
        present = draw(st.sampled_from(["expired_start", "expired_end"]))
        event.pop("expired_start", None), event.pop("expired_end", None)
        event[present] = start.strftime(MINUTE) if draw(st.booleans()) else draw(bad_minute)
        missing = "expired_end" if present == "expired_start" else "expired_start"
        valid_value = isinstance(event[present], str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", event[present])
        return event, missing if valid_value else present
    event["expired_start"] = start.strftime(MINUTE)
    if kind == "reversed":
        event["expired_end"] = (start - timedelta(minutes=draw(st.integers(0, 10_000)))).strftime(MINUTE)
        return event, "expired_end"
    if kind == "too-long":
        event["expired_end"] = (start + timedelta(days=367, minutes=draw(st.integers(0, 10_000)))).strftime(MINUTE)
        return event, "expired_end"
    event["expired_end"] = (start + timedelta(days=1)).strftime(MINUTE)
    event["window_days"] = draw(VALID["window_days"])  # an explicit window and window_days together
    return event, "window_days"


# --- arbitrary input ----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.text(max_size=8) | st.sampled_from(EVENT_KEYS), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def garbage(draw: st.DrawFn) -> Any:
    """Anything at all, as Function Compute could hand it over (mostly bytes)."""
    kind = draw(st.sampled_from([
        "json", "bytes", "utf8-invalid", "oversized", "deep", "timer", "timer-bad-payload", "raw",
    ]))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "bytes":
        return draw(st.binary(max_size=64))
    if kind == "utf8-invalid":
        broken = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]))
        return b'{"regions": ["cn-hangzhou"], "x": "' + broken + b'"}'
    if kind == "oversized":
        return b'{"regions": ["' + b"a" * draw(st.integers(MAX_EVENT_BYTES, MAX_EVENT_BYTES + 5000)) + b'"]}'
    if kind == "deep":
        depth = draw(st.integers(1000, 50_000))
        return b'{"regions": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "timer":
        inner = draw(json_values | valid_events())
        return json.dumps({"triggerTime": "2030-01-01T00:00:00Z", "triggerName": "t",
                           "payload": json.dumps(inner)}).encode()
    if kind == "timer-bad-payload":
        return json.dumps({"triggerTime": "2030-01-01T00:00:00Z", "payload": draw(json_values)}).encode()
    return draw(json_values)  # raw Python object, not bytes


# --- the checks ------------------------------------------------------------------------------------------


def call(function: str, event: Any) -> tuple[dict | None, InvalidEventError | None]:
    """Invoke as Function Compute would (raw objects are passed as they are)."""
    context = fc_context(fuzz_emulator_credentials[0])
    LEDGER.add(fuzz_examples=1)
    try:
        return invoke(function, event, context, raw=not isinstance(event, (bytes, str))), None
    except InvalidEventError as error:
        return None, error


fuzz_emulator_credentials: list[Any] = [None]


@pytest.fixture(autouse=True)
def _credentials(fuzz_emulator) -> None:
    fuzz_emulator_credentials[0] = fuzz_emulator.function_credentials


def check_outcome(emulator: Emulator, function: str, event: Any, expected_key: str | type | None) -> None:
    emulator.reset_calls()
    result, error = call(function, event)  # any other exception fails the test right here
    if error is None:
        assert expected_key is None or expected_key is Any, f"accepted an invalid event ({expected_key})"
        assert result is not None and result["job"] == function
        json.dumps(result)  # JSON-serialisable
        return
    assert expected_key is not None, f"a valid event was refused: {error}"
    assert emulator.calls == [], "an invalid event reached the API"
    assert isinstance(error.key, str) and repr(error.key) in str(error)  # the message names the key
    if expected_key is not Any:
        assert error.key == expected_key, str(error)


@pytest.mark.parametrize("function", FUNCTIONS)
@EXAMPLES
@given(event=valid_events())
def test_valid_events_run(fuzz_emulator, function, event):
    check_outcome(fuzz_emulator, function, json.dumps(event).encode(), None)


@pytest.mark.parametrize("function", FUNCTIONS)
@EXAMPLES
@given(case=defective_events(), as_timer_payload=st.booleans())
def test_one_defect_is_refused_naming_its_key_before_any_call(fuzz_emulator, function, case, as_timer_payload):
    event, key = case
    payload = json.dumps(event)
    if as_timer_payload:  # the same overrides, arriving through a timer trigger
        payload = json.dumps({"triggerTime": "2030-01-01T00:00:00Z", "triggerName": "n", "payload": payload})
    check_outcome(fuzz_emulator, function, payload.encode(), key)


@pytest.mark.parametrize("function", FUNCTIONS)
@EXAMPLES
@given(event=garbage())
def test_anything_else_runs_or_is_refused_never_crashes(fuzz_emulator, function, event):
    check_outcome(fuzz_emulator, function, event, Any)


# --- ids against their real formats --------------------------------------------------------------------

REAL_REGION_IDS = ["cn-hangzhou", "cn-shanghai-finance-1", "cn-hongkong", "ap-southeast-1", "ap-northeast-2",
                   "eu-central-1", "us-east-1", "me-east-1", "na-south-1", "cn-beijing-finance-1"]


def test_the_formats_accept_every_real_id_and_nothing_else():
    for region in [*REGIONS, *REAL_REGION_IDS]:
        assert REGION_RE.fullmatch(region), region
    for region in REGIONS:
        assert INSTANCE_ID_RE.fullmatch(new_instance_id(region))
    for bad in ["cn_hangzhou", "CN-HANGZHOU", "cn-hangzhou/../x", "hangzhou", "cn-", "xx-hangzhou", "cn-hang zhou"]:
        assert not REGION_RE.fullmatch(bad), bad
    for bad in ["i-bp1", "i-BP1234567890", "i-bp12345678;rm", "bp12345678", "i-" + "a" * 33, "i-bp1234-56789"]:
        assert not INSTANCE_ID_RE.fullmatch(bad), bad


@pytest.mark.parametrize(("key", "value"), [
    ("regions", ["cn-hangzhou\n"]),  # "$" also matches before a final newline: fullmatch must be meant
    ("regions", ["cn-hangzhou&RegionId=cn-beijing"]),
    ("instance_ids", ["i-bp1234567890abcd\n"]),
    ("instance_ids", ['i-bp1234567890abcd","i-other']),
])
def test_ids_that_only_look_valid_are_refused(fuzz_emulator, key, value):
    for function in FUNCTIONS:
        check_outcome(fuzz_emulator, function, json.dumps({key: value}).encode(), key)
