"""The expiry window a run looks at, and the checks that tie it to the renewal period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ..errors import InvalidEventError, InvalidSettingError
from ..timeutil import floor_minute, format_minute
from .values import RENEW_PERIODS, renew_periods

# The shortest a renewal can extend an expiry by: a month is at least 28 days.
_UNIT_DAYS = {"Month": 28, "Week": 7}


class Window(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """The expiries a run looks at: from ``start`` to ``end``, both included."""

    start: datetime
    end: datetime

    def as_dict(self) -> dict[str, str]:
        return {"start": format_minute(self.start), "end": format_minute(self.end)}

    def contains(self, moment: datetime) -> bool:
        # Inclusive at both ends: the API documents no semantics for the filter edges, so we apply our own
        # after reading, and an instance expiring exactly at the end of the window is in it.
        return self.start <= moment <= self.end


def window_of(values: Mapping[str, Any], overrides: Mapping[str, Any], now: datetime) -> Window:
    """``expired_start``/``expired_end`` when given (both), else [now, now + window_days]."""
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


def check_renew_period(values: Mapping[str, Any], overrides: Mapping[str, Any], site: str = "china") -> None:
    """The run's period must be one RenewInstance accepts on the account's site (``SITE``), before any call."""
    unit, period = values["period_unit"], values["period"]
    periods = renew_periods(site)
    if unit not in periods:
        if unit in RENEW_PERIODS:  # Week on the international site
            key = "period_unit" if "period_unit" in overrides else None
            problem = f"{unit} is not a renewal unit on the {site} site (SITE={site}; allowed: {', '.join(periods)})"
            if key:
                raise InvalidEventError(key, problem)
            raise InvalidSettingError("RENEW_PERIOD_UNIT", problem)
        raise InvalidSettingError("RENEW_PERIOD_UNIT", f"must be Month or Week, got {unit!r}")
    if period not in periods[unit]:
        key = "period" if "period" in overrides or "period_unit" not in overrides else "period_unit"
        allowed = ", ".join(map(str, periods[unit]))
        site_note = f" on the {site} site (SITE={site})" if periods is not RENEW_PERIODS else ""
        raise InvalidEventError(key, f"period {period} is not renewable in {unit}s{site_note} (allowed: {allowed})")


def check_window_fits_period(values: Mapping[str, Any], overrides: Mapping[str, Any], window: Window) -> None:
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
