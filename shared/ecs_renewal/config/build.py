"""Building a run's :class:`Settings` (and its :class:`Throughput`) from the event and the environment.

Everything is validated before the first API call: the whole event, then the cross-checks (a region
list, a renewable period, a window shorter than one renewal), then every environment variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from ..errors import InvalidEventError
from ..timeutil import utc_now
from .event import parse_event
from .parse import TagMatcher
from .resolve import environment_value, reject_unknown_keys, resolve
from .table import BY_NAME, ENVIRONMENT_SETTINGS, EVENT_SETTINGS, JOB_KEYS, JOBS, RENEW
from .values import StatedRate, documented_qps
from .window import Window, check_renew_period, check_window_fits_period, window_of

DEFAULT_REGION_CONCURRENCY = BY_NAME["region_concurrency"].default  # most fleets' regions in one wave
DEFAULT_RENEW_CONCURRENCY = BY_NAME["renew_concurrency"].default
MAX_CONCURRENCY = 64


class TagNames(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """Which tags carry per-instance rules (``TAG_RENEWAL_PERIOD`` ... ``TAG_OWNER``)."""

    period: str = "renewal-period"
    unit: str = "renewal-unit"
    renew_day: str = "renewal-day"
    owner: str = "owner"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> TagNames:
        return cls(*(resolve(BY_NAME[name], environ) for name in _TAG_SETTINGS))


_TAG_SETTINGS = ("tag_period", "tag_unit", "tag_renew_day", "tag_owner")
DEFAULT_TAG_NAMES = {BY_NAME[name].env: BY_NAME[name].default for name in _TAG_SETTINGS}


@dataclass(frozen=True, eq=False)  # compared by identity: no __eq__ (33 fields) to build at a cold start
class Settings:
    """One run's settings: the event over the environment over the defaults, validated in full."""

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
    renew_failed_auto_renew: bool = False
    funds_horizon_days: int = 9
    bss_endpoint: str | None = None
    all_clear: bool = True
    max_cost: float | None = None
    force: bool = False
    accounts: tuple[str, ...] | None = None
    shard: dict[str, Any] | None = None
    tag_names: TagNames = field(default_factory=TagNames)  # which tags carry per-instance rules
    alert_tiers: tuple[int, ...] = (30, 15, 7, 3, 1)
    time_zone: str = "Asia/Shanghai"
    approval: str = "off"  # "required": renew-batch plans and asks the group (approval/)
    approval_ttl: int = 12  # hours a plan may be applied
    site: str = "china"  # SITE: china | intl (RenewInstance's terms differ)
    unified_expiry_day: int | None = None  # UNIFIED_EXPIRY_DAY: the account's unified expiry day, if it has one
    ignored_keys: tuple[str, ...] = field(default=())


_SETTINGS_FIELDS = frozenset(Settings.__dataclass_fields__) - {"job", "window", "tag_names", "ignored_keys"}


def build_settings(
    job: str,
    event: Any,
    environ: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> Settings:
    """Validate the whole event and the environment it falls back on; return the run's settings."""
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}")
    overrides = parse_event(event)
    reject_unknown_keys(overrides)
    values = {setting.name: resolve(setting, environ, overrides) for setting in EVENT_SETTINGS}
    if values["regions"] is None:
        raise InvalidEventError("regions", "is missing: set the event key or the REGIONS environment variable")
    # The site decides which terms RenewInstance accepts: known before the period is checked.
    check_renew_period(values, overrides, resolve(BY_NAME["site"], environ))
    window = window_of(values, overrides, now or utc_now())
    if job == RENEW and values["instance_ids"] is None:
        check_window_fits_period(values, overrides, window)
    # Every variable, also those read later (timeouts, fan-out, throughput): a bad one fails the run now.
    values.update((setting.name, resolve(setting, environ)) for setting in ENVIRONMENT_SETTINGS)
    return Settings(
        job=job, window=window, tag_names=TagNames(*(values[name] for name in _TAG_SETTINGS)),
        ignored_keys=tuple(sorted(key for key in overrides if key not in JOB_KEYS[job])),
        **{name: value for name, value in values.items() if name in _SETTINGS_FIELDS},
    )


class Throughput(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """Regions worked at once, renewals in flight per region, and calls per second per action."""

    region_concurrency: int = DEFAULT_REGION_CONCURRENCY
    renew_concurrency: int = DEFAULT_RENEW_CONCURRENCY
    max_qps: float | None = None  # every action not named in max_qps_by_action; None = documented per action
    max_qps_by_action: tuple[tuple[str, float], ...] = ()  # "Action" or "region:Action" -> calls per second

    def qps_for(self, action: str, region: str | None = None) -> float:
        """One (region, action) lane's calls per second: region:Action, Action, every action (each a
        ``StatedRate``: the operator's quota), else the documented default."""
        named = dict(self.max_qps_by_action)
        if region and f"{region}:{action}" in named:
            return StatedRate(named[f"{region}:{action}"])
        if action in named:
            return StatedRate(named[action])
        return StatedRate(self.max_qps) if self.max_qps is not None else documented_qps(action)


def throughput_settings(environ: Mapping[str, str]) -> Throughput:
    """``REGION_CONCURRENCY``, ``RENEW_CONCURRENCY`` (1..64) and ``ECS_MAX_QPS``.

    ``ECS_MAX_QPS`` is a number (every action), ``Action=number`` or ``region:Action=number`` pairs (a
    number may be ``N/60``: per minute), or a mix: ``ECS_MAX_QPS=100,RenewInstance=20``. Unset: the
    documented quota of each action (``values.DOCUMENTED_QUOTAS``, unverified).
    """
    region, renew = (environment_value(name, environ) for name in ("REGION_CONCURRENCY", "RENEW_CONCURRENCY"))
    max_qps, by_action = environment_value("ECS_MAX_QPS", environ)
    return Throughput(region, renew, max_qps, by_action)
