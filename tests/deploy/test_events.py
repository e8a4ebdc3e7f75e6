"""events/: the sample events for `s invoke -f events/<file>.json` and the console's test-event box.

Each must be what the function accepts, read by the project's own parser: one event per function (only
keys that function reads) and a timer-trigger event (FC's envelope, overrides in the ``payload`` string).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecs_renewal.settings import MAX_EVENT_BYTES, TIMER_KEYS, build_settings, parse_event
from tests.deploy.conftest import FUNCTIONS, ROOT

EVENTS = ROOT / "events"
TIMER_EVENT = EVENTS / "timer.json"
NO_ENVIRONMENT: dict[str, str] = {}  # the events name their regions: they must stand on their own


def load(path: Path) -> Any:
    raw = path.read_bytes()
    assert len(raw) <= MAX_EVENT_BYTES, f"{path.name}: larger than an async invocation may carry"
    return json.loads(raw)


def test_one_event_per_function_and_a_timer_event() -> None:
    assert {path.name for path in EVENTS.glob("*.json")} == {f"{f}.json" for f in FUNCTIONS} | {TIMER_EVENT.name}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_event_is_valid_for_its_function(function: str) -> None:
    path = EVENTS / f"{function}.json"
    event = load(path)
    assert isinstance(event, dict) and not set(event) & TIMER_KEYS
    settings = build_settings(function, path.read_bytes(), NO_ENVIRONMENT)
    assert settings.ignored_keys == (), f"{path.name} sends keys {function} does not read"
    assert settings.dry_run is True, f"{path.name}: a sample event must not renew or change anything"


def test_timer_event_has_function_computes_envelope() -> None:
    event = load(TIMER_EVENT)
    assert set(event) == TIMER_KEYS
    assert event["triggerTime"].endswith("Z")  # UTC, as FC sends it
    assert isinstance(event["payload"], str), "FC delivers the payload as a string"
    assert isinstance(json.loads(event["payload"]), dict)
    assert parse_event(TIMER_EVENT.read_bytes()) == json.loads(event["payload"])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_timer_event_is_valid_for_every_function(function: str) -> None:
    settings = build_settings(function, TIMER_EVENT.read_bytes(), {"REGIONS": "cn-hangzhou"})
    assert settings.dry_run is True


def test_timer_event_names_a_trigger_of_s_yaml(s_yaml: dict[str, Any]) -> None:
    names = {t["triggerName"] for r in s_yaml["resources"].values() for t in r["props"].get("triggers", [])}
    assert load(TIMER_EVENT)["triggerName"] in names
