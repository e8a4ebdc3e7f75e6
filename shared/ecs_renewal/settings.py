"""Settings: environment defaults, overridden by the event, validated in full before any API call.

The event keys and their environment variables are the public contract (``../shared/CONTRACT.md``).
Every value goes through one validator that knows its key, so an invalid event or environment
raises :class:`InvalidEventError` / :class:`InvalidSettingError` naming exactly what is wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import InvalidEventError, InvalidSettingError
from .timeutil import floor_minute, format_minute, parse_minute, utc_now

JOBS = ("scan-expiring", "renew-batch", "audit-autorenew")

# Real region ids: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1, us-east-1 ... The SDK's resolver
# only knows these first segments, so anything else cannot be a region it can reach.
REGION_RE = re.compile(r"^(cn|ap|eu|us|me|rus|na|sa|af)-[a-z]+(-[a-z0-9]+){0,3}$")
# ECS instance ids: "i-" followed by lowercase letters and digits (e.g. i-bp1g6zv0ce8oghu7k2m9).
INSTANCE_ID_RE = re.compile(r"^i-[a-z0-9]{8,32}$")

MAX_REGIONS = 100
MAX_INSTANCE_IDS = 1000
MAX_EVENT_BYTES = 128 * 1024  # Function Compute's own cap on an async payload

# RenewInstance's accepted periods (China site, the wider of the two; the international site is a subset).
RENEW_PERIODS = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60), "Week": (1, 2, 3, 4)}
AUTO_RENEW_DURATIONS = (1, 2, 3, 6, 12)

TIMER_KEYS = {"triggerTime", "triggerName", "payload"}

# Every environment variable ecs-renewal reads (tests and the emulator's Function Compute clear them
# so that a host's settings never reach a run).
ENVIRONMENT_VARIABLES = (
    "REGIONS", "WINDOW_DAYS", "DRY_RUN", "RENEW_PERIOD", "RENEW_PERIOD_UNIT", "MAX_RENEWALS",
    "EXPECTED_AUTO_RENEW", "AUTO_RENEW_DURATION", "AUTO_RENEW_FIX", "RENEW_INCLUDE_TAG", "RENEW_EXCLUDE_TAG",
    "ECS_ENDPOINT", "STS_ENDPOINT", "ASSUME_ROLE_ARN", "DINGTALK_WEBHOOK", "DINGTALK_SECRET",
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ECS_READ_TIMEOUT", "RENEW_AUTO_RENEWING",
    "ECS_MAX_QPS", "REGION_CONCURRENCY", "RENEW_CONCURRENCY",
    "MAX_COST", "ALERT_TIERS", "ALERT_TIMEZONE", "TAG_RENEWAL_PERIOD", "TAG_RENEWAL_UNIT", "TAG_RENEWAL_DAY",
    "TAG_OWNER", "ACCOUNTS", "ACCOUNTS_FILE", "SHARD_SIZE", "FC_ENDPOINT", "FC_SERVICE_NAME", "FC_QUALIFIER",
    "FANOUT_SERVICE_NAME", "NOTIFY_STATE_DIR", "FUNCTION_TIMEOUT_SECONDS",
)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {"start": format_minute(self.start), "end": format_minute(self.end)}

    def contains(self, moment: datetime) -> bool:
        # Inclusive at both ends: the API documents no semantics for the filter edges, so we apply our own
        # after reading, and an instance expiring exactly at the end of the window is in it.
        return self.start <= moment <= self.end


@dataclass(frozen=True)
class TagMatcher:
    """``key=value`` (exact) or ``key`` (any value)."""

    key: str
    value: str | None = None

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.key not in tags:
            return False
        return self.value is None or tags[self.key] == self.value

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


@dataclass(frozen=True)
class Settings:
    job: str
    regions: tuple[str, ...]
    window: Window
    dry_run: bool = True
    instance_ids: tuple[str, ...] | None = None
    period: int = 1
    period_unit: str = "Month"
    max_instances: int = 50
    expected_auto_renew: bool = True
    duration: int = 1
    fix: bool = False
    include_tag: TagMatcher | None = None
    exclude_tag: TagMatcher | None = None
    ecs_endpoint: str | None = None
    sts_endpoint: str | None = None
    assume_role_arn: str | None = None
    renew_auto_renewing: bool = False
    max_cost: float | None = None
    accounts: tuple[str, ...] | None = None
    shard: dict[str, Any] | None = None
    tag_names: Any = None  # tag_rules.TagNames: which tags carry per-instance rules
    alert_tiers: tuple[int, ...] = (30, 15, 7, 3, 1)
    time_zone: str = "Asia/Shanghai"
    ignored_keys: tuple[str, ...] = field(default=())


# --- value validators: each takes the raw value and returns the clean one or raises ValueError ---------


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


def _env_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


def _int_in(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    return check


def _env_int(check: Callable[[Any], int]) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"must be an integer, got {value!r}") from None
        return check(number)

    return parse


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}, got {_short(value)}")
        return value

    return check


def _id_list(pattern: re.Pattern[str], what: str, limit: int) -> Callable[[Any], tuple[str, ...]]:
    def check(value: Any) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise ValueError(f"must be a list of {what}s")
        if not value:
            raise ValueError("must not be empty")
        if len(value) > limit:
            raise ValueError(f"has {len(value)} entries; at most {limit}")
        seen: dict[str, None] = {}
        for item in value:
            if not isinstance(item, str) or not pattern.fullmatch(item):
                raise ValueError(f"{_short(item)} is not a valid {what}")
            seen[item] = None
        return tuple(seen)

    return check


def _env_list(check: Callable[[Any], tuple[str, ...]]) -> Callable[[str], tuple[str, ...]]:
    return lambda value: check([part.strip() for part in value.split(",") if part.strip()])


def _minute(value: Any) -> datetime:
    return parse_minute(value)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _tag(value: str) -> TagMatcher | None:
    value = value.strip()
    if not value:
        return None
    key, sep, tag_value = value.partition("=")
    if not key.strip():
        raise ValueError("must be key=value or key")
    return TagMatcher(key.strip(), tag_value.strip() if sep else None)


def _money(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN != NaN
        raise ValueError("must be a number (the account's currency)")
    if not 0 <= value <= 1e9:
        raise ValueError(f"must be from 0 to 1e9, got {value}")
    return float(value)


def _env_money(value: str) -> float:
    try:
        return _money(float(value.strip()))
    except ValueError as error:
        raise ValueError(str(error) if "must" in str(error) else f"must be a number, got {value!r}") from None


def _shard(value: Any) -> dict[str, Any]:
    """A shard marker set by a coordinator (see fanout.py): its presence means "never fan out again"."""
    if not isinstance(value, dict) or set(value) != {"index", "of", "coordinator"}:
        raise ValueError("must be an object with index, of and coordinator")
    index, of, coordinator = value["index"], value["of"], value["coordinator"]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (index, of)) or not 1 <= index <= of <= 10_000:
        raise ValueError("index and of must be whole numbers with 1 <= index <= of")
    if not isinstance(coordinator, str) or not 1 <= len(coordinator) <= 128:
        raise ValueError("coordinator must be a request id")
    return dict(value)


_regions = _id_list(REGION_RE, "region id", MAX_REGIONS)
_instance_ids = _id_list(INSTANCE_ID_RE, "instance id", MAX_INSTANCE_IDS)
_account_ids = _id_list(re.compile(r"^\d{5,20}$"), "account id (digits, as a string)", 500)
_window_days = _int_in(1, 365)
_period = _int_in(1, 60)
_max_instances = _int_in(1, 10_000)


# key → (validator for event values, environment variable, parser for the environment's string, default)
_KEYS: dict[str, tuple[Callable[[Any], Any], str | None, Callable[[str], Any] | None, Any]] = {
    "regions": (_regions, "REGIONS", _env_list(_regions), None),
    "window_days": (_window_days, "WINDOW_DAYS", _env_int(_window_days), 7),
    "expired_start": (_minute, None, None, None),
    "expired_end": (_minute, None, None, None),
    "dry_run": (_bool, "DRY_RUN", _env_bool, True),
    "instance_ids": (_instance_ids, None, None, None),
    "period": (_period, "RENEW_PERIOD", _env_int(_period), 1),
    "period_unit": (_one_of(("Month", "Week")), "RENEW_PERIOD_UNIT", str.strip, "Month"),
    "max_instances": (_max_instances, "MAX_RENEWALS", _env_int(_max_instances), 50),
    "expected_auto_renew": (_bool, "EXPECTED_AUTO_RENEW", _env_bool, True),
    "duration": (_one_of(AUTO_RENEW_DURATIONS), "AUTO_RENEW_DURATION", _env_int(_one_of(AUTO_RENEW_DURATIONS)), 1),
    "fix": (_bool, "AUTO_RENEW_FIX", _env_bool, False),
    "max_cost": (_money, "MAX_COST", _env_money, None),
    "accounts": (_account_ids, None, None, None),
    "shard": (_shard, None, None, None),
}
EVENT_KEYS = tuple(_KEYS)

# Which keys each job reads; others are accepted (one payload may serve several functions) but reported.
_EVERY_JOB = {"regions", "dry_run", "accounts", "shard"}
JOB_KEYS = {
    "scan-expiring": _EVERY_JOB | {"window_days", "expired_start", "expired_end"},
    "renew-batch": _EVERY_JOB | {
        "window_days", "expired_start", "expired_end", "instance_ids", "period", "period_unit", "max_instances",
        "max_cost",
    },
    "audit-autorenew": _EVERY_JOB | {"instance_ids", "expected_auto_renew", "duration", "fix"},
}


# --- the event ------------------------------------------------------------------------------------------


def parse_event(event: Any) -> dict[str, Any]:
    """Turn what Function Compute passes (bytes, str, dict or nothing) into the overrides dict.

    A timer trigger's envelope is unwrapped: its ``payload`` string, when it holds a JSON object,
    is read as the overrides; any other payload (a label such as "nightly") carries none.
    """
    if event is None:
        return {}
    if isinstance(event, (bytes, bytearray)):
        if len(event) > MAX_EVENT_BYTES:
            raise InvalidEventError("event", f"is {len(event)} bytes; at most {MAX_EVENT_BYTES}")
        try:
            event = bytes(event).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEventError("event", "is not UTF-8 text") from None
    if isinstance(event, str):
        if len(event.encode("utf-8", "surrogatepass")) > MAX_EVENT_BYTES:
            raise InvalidEventError("event", f"is larger than {MAX_EVENT_BYTES} bytes")
        if not event.strip():
            return {}
        try:
            event = json.loads(event)
        except (ValueError, RecursionError):
            raise InvalidEventError("event", "is not valid JSON") from None
    if not isinstance(event, dict):
        raise InvalidEventError("event", f"must be a JSON object, got {type(event).__name__}")
    if event and set(event) <= TIMER_KEYS and ("triggerTime" in event or "triggerName" in event):
        return _timer_payload(event.get("payload"))
    return dict(event)


def _timer_payload(payload: Any) -> dict[str, Any]:
    if payload is None or (isinstance(payload, str) and not payload.strip()):
        return {}
    if not isinstance(payload, str):
        raise InvalidEventError("payload", "must be a string (a JSON object in a string)")
    text = payload.strip()
    if not text.startswith("{"):
        return {}  # a plain label, not overrides
    try:
        overrides = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidEventError("payload", "looks like JSON but does not parse") from None
    if not isinstance(overrides, dict):
        raise InvalidEventError("payload", "must hold a JSON object")
    return overrides


# --- building Settings ---------------------------------------------------------------------------------


def build_settings(
    job: str,
    event: Any,
    environ: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> Settings:
    """Validate the whole event and the environment it falls back on; return the run's settings."""
    from .tag_rules import TagNames  # here, not at the top: tag_rules itself reads RENEW_PERIODS from this module
    from .tiers import parse_tiers

    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    overrides = parse_event(event)
    for key in overrides:
        if key not in _KEYS:
            raise InvalidEventError(
                str(key)[:64], f"is not a known key (known: {', '.join(EVENT_KEYS)})"
            )

    values: dict[str, Any] = {}
    for key, (check, env_name, env_parse, default) in _KEYS.items():
        if key in overrides:
            try:
                values[key] = check(overrides[key])
            except ValueError as error:
                raise InvalidEventError(key, str(error)) from None
        elif env_name and environ.get(env_name, "").strip():
            try:
                values[key] = env_parse(environ[env_name])  # type: ignore[misc]
            except ValueError as error:
                raise InvalidSettingError(env_name, str(error)) from None
        else:
            values[key] = default

    if values["regions"] is None:
        raise InvalidEventError("regions", "is missing: set the event key or the REGIONS environment variable")
    _check_renew_period(values, overrides)
    window = _window(values, overrides, now or utc_now())
    if job == "renew-batch" and values["instance_ids"] is None:
        _check_window_fits_period(values, overrides, window)

    return Settings(
        job=job,
        regions=values["regions"],
        window=window,
        dry_run=values["dry_run"],
        instance_ids=values["instance_ids"],
        period=values["period"],
        period_unit=values["period_unit"],
        max_instances=values["max_instances"],
        expected_auto_renew=values["expected_auto_renew"],
        duration=values["duration"],
        fix=values["fix"],
        include_tag=_env_tag(environ, "RENEW_INCLUDE_TAG", ""),
        exclude_tag=_env_tag(environ, "RENEW_EXCLUDE_TAG", "renewal=manual"),
        ecs_endpoint=_env_endpoint(environ, "ECS_ENDPOINT"),
        sts_endpoint=_env_endpoint(environ, "STS_ENDPOINT"),
        assume_role_arn=_env_role_arn(environ),
        renew_auto_renewing=_env_flag(environ, "RENEW_AUTO_RENEWING"),
        max_cost=values["max_cost"],
        accounts=values["accounts"],
        shard=values["shard"],
        tag_names=TagNames.from_environ(environ),
        alert_tiers=parse_tiers(environ),
        time_zone=_env_time_zone(environ),
        ignored_keys=tuple(sorted(k for k in overrides if k not in JOB_KEYS[job])),
    )


def _check_renew_period(values: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    unit, period = values["period_unit"], values["period"]
    if unit not in RENEW_PERIODS:
        raise InvalidSettingError("RENEW_PERIOD_UNIT", f"must be Month or Week, got {unit!r}")
    if period not in RENEW_PERIODS[unit]:
        key = "period" if "period" in overrides or "period_unit" not in overrides else "period_unit"
        allowed = ", ".join(map(str, RENEW_PERIODS[unit]))
        raise InvalidEventError(key, f"period {period} is not renewable in {unit}s (allowed: {allowed})")


# The shortest a renewal can extend an expiry by: a month is at least 28 days.
_UNIT_DAYS = {"Month": 28, "Week": 7}


def _check_window_fits_period(values: dict[str, Any], overrides: Mapping[str, Any], window: Window) -> None:
    """A renewed instance must leave the window, or the next run (or a replay) renews it again."""
    period_days = values["period"] * _UNIT_DAYS[values["period_unit"]]
    if window.end - window.start <= timedelta(days=period_days):
        return
    problem = (f"the {(window.end - window.start).days}-day window is longer than one renewal "
               f"({values['period']} {values['period_unit']}, at least {period_days} days): a renewed instance "
               "would still be in the window and be renewed again by the next run")
    if "period" in overrides or "period_unit" in overrides:
        raise InvalidEventError("period", problem)
    if "expired_start" in overrides:
        raise InvalidEventError("expired_end", problem)
    if "window_days" in overrides:
        raise InvalidEventError("window_days", problem)
    raise InvalidSettingError("WINDOW_DAYS", problem)


def _window(values: dict[str, Any], overrides: Mapping[str, Any], now: datetime) -> Window:
    start, end = values["expired_start"], values["expired_end"]
    if (start is None) != (end is None):
        missing = "expired_end" if end is None else "expired_start"
        raise InvalidEventError(missing, "is missing: give both expired_start and expired_end, or neither")
    if start is not None:
        if "window_days" in overrides:
            raise InvalidEventError("window_days", "cannot be combined with expired_start/expired_end")
        if end <= start:
            raise InvalidEventError("expired_end", "must be later than expired_start")
        if end - start > timedelta(days=366):
            raise InvalidEventError("expired_end", "the window may span at most 366 days")
        return Window(start, end)
    begin = floor_minute(now)
    return Window(begin, begin + timedelta(days=values["window_days"]))


def _env_time_zone(environ: Mapping[str, str]) -> str:
    """Where people read the alerts: expiry times are shown in this zone (default Asia/Shanghai)."""
    name = environ.get("ALERT_TIMEZONE", "").strip() or "Asia/Shanghai"
    from .timeutil import zone

    try:
        zone(name)
    except ValueError as error:
        raise InvalidSettingError("ALERT_TIMEZONE", str(error)) from None
    return name


def _env_flag(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "").strip()
    if not value:
        return False
    try:
        return _env_bool(value)
    except ValueError as error:
        raise InvalidSettingError(name, str(error)) from None


def _env_tag(environ: Mapping[str, str], name: str, default: str) -> TagMatcher | None:
    try:
        return _tag(environ.get(name, default))
    except ValueError as error:
        raise InvalidSettingError(name, str(error)) from None


def _env_endpoint(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip().rstrip("/")
    if not value:
        return None
    if not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+$", value):
        raise InvalidSettingError(name, "must be a base URL with its scheme, e.g. http://127.0.0.1:18080")
    return value


def _env_role_arn(environ: Mapping[str, str]) -> str | None:
    value = environ.get("ASSUME_ROLE_ARN", "").strip()
    if not value:
        return None
    if not re.match(r"^acs:ram::\d+:role/[A-Za-z0-9.@\-_/]+$", value):
        raise InvalidSettingError("ASSUME_ROLE_ARN", "must look like acs:ram::<account-id>:role/<role-name>")
    return value


# --- throughput: how many calls a run may have in flight, and how fast (environment only) ----------------

# ECS throttles per account, per API and per region; the thresholds are shown in Quota Center → API Rate
# Limits and are not published (unverified). 20 calls/s per action is a conservative default: set
# ECS_MAX_QPS to your quota. One limit per action covers every region at once (stricter than needed).
DEFAULT_MAX_QPS = 20.0
DEFAULT_REGION_CONCURRENCY = 16  # most fleets' regions in one wave; Alibaba Cloud has about 30
DEFAULT_RENEW_CONCURRENCY = 8
MAX_CONCURRENCY = 64
_ACTION_PATTERN = r"^[A-Z][A-Za-z]{2,63}$"  # compiled only when ECS_MAX_QPS names an action


@dataclass(frozen=True)
class Throughput:
    """Regions worked at once, renewals in flight per region, and calls per second per action."""

    region_concurrency: int = DEFAULT_REGION_CONCURRENCY
    renew_concurrency: int = DEFAULT_RENEW_CONCURRENCY
    max_qps: float = DEFAULT_MAX_QPS  # every action not named in max_qps_by_action
    max_qps_by_action: tuple[tuple[str, float], ...] = ()

    def qps_for(self, action: str) -> float:
        return dict(self.max_qps_by_action).get(action, self.max_qps)


def throughput_settings(environ: Mapping[str, str]) -> Throughput:
    """``REGION_CONCURRENCY``, ``RENEW_CONCURRENCY`` (1..64) and ``ECS_MAX_QPS``.

    ``ECS_MAX_QPS`` is a number (every action), or ``Action=number`` pairs, or both:
    ``ECS_MAX_QPS=100,RenewInstance=20``.
    """
    concurrency = {}
    for name, default in (("REGION_CONCURRENCY", DEFAULT_REGION_CONCURRENCY),
                          ("RENEW_CONCURRENCY", DEFAULT_RENEW_CONCURRENCY)):
        value = environ.get(name, "").strip()
        try:
            concurrency[name] = _env_int(_int_in(1, MAX_CONCURRENCY))(value) if value else default
        except ValueError as error:
            raise InvalidSettingError(name, str(error)) from None
    max_qps, by_action = _max_qps(environ.get("ECS_MAX_QPS", ""))
    return Throughput(concurrency["REGION_CONCURRENCY"], concurrency["RENEW_CONCURRENCY"], max_qps, by_action)


def _max_qps(text: str) -> tuple[float, tuple[tuple[str, float], ...]]:
    default, by_action = DEFAULT_MAX_QPS, {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        action, sep, number = part.rpartition("=")
        if sep and not re.match(_ACTION_PATTERN, action.strip()):
            raise InvalidSettingError("ECS_MAX_QPS", f"{action.strip()!r} is not an API action name")
        try:
            rate = float(number)
        except ValueError:
            rate = float("nan")
        if not 0.1 <= rate <= 10_000:  # NaN fails this too
            raise InvalidSettingError(
                "ECS_MAX_QPS", f"{part!r}: give calls per second from 0.1 to 10000, e.g. 100 or RenewInstance=20"
            )
        if sep:
            by_action[action.strip()] = rate
        else:
            default = rate
    return default, tuple(sorted(by_action.items()))
