"""ECS times are UTC with minute precision: ``yyyy-MM-ddTHH:mmZ`` (``ExpiredTime`` may carry seconds)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

MINUTE_FORMAT = "%Y-%m-%dT%H:%MZ"
_MINUTE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")
_SECONDS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# Pay-as-you-go instances carry a far-future placeholder expiry; anything this far out is not a real one.
FAR_FUTURE_YEAR = 2090


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def format_minute(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime(MINUTE_FORMAT)


def parse_minute(text: str) -> datetime:
    """Parse the strict filter format; raises ValueError for anything else (seconds included)."""
    if not isinstance(text, str) or not _MINUTE_RE.match(text):
        raise ValueError("expected yyyy-MM-ddTHH:mmZ (UTC, minute precision)")
    return datetime.strptime(text, MINUTE_FORMAT).replace(tzinfo=timezone.utc)


def parse_expired_time(text: str) -> datetime:
    """``ExpiredTime`` as ECS returns it: with or without seconds (docs and examples disagree).

    Read once per instance on every page: the fixed positions are read directly (strptime costs five
    times as much); an impossible date still raises ValueError.
    """
    seconds = _SECONDS_RE.match(text) is not None
    if not seconds and not _MINUTE_RE.match(text):
        raise ValueError("expected yyyy-MM-ddTHH:mmZ (UTC, minute precision)")
    return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]), int(text[14:16]),
                    int(text[17:19]) if seconds else 0, tzinfo=timezone.utc)


def is_placeholder_expiry(moment: datetime) -> bool:
    return moment.year >= FAR_FUTURE_YEAR


def days_until(moment: datetime, now: datetime) -> float:
    return (moment - now) / timedelta(days=1)


# Fixed offsets for the zones operators use most, for a runtime without the tz database.
_FIXED_ZONES = {"Asia/Shanghai": 8, "Asia/Hong_Kong": 8, "Asia/Singapore": 8, "Asia/Tokyo": 9, "UTC": 0}


def zone(name: str):  # -> tzinfo
    """A tzinfo for an IANA zone name; ValueError when unknown."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # here: only runs that show local times need it

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass  # no tz database on this runtime: fall back to a fixed offset we know
    if name in _FIXED_ZONES:
        return timezone(timedelta(hours=_FIXED_ZONES[name]), name)
    raise ValueError(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)")
