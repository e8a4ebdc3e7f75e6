"""UTC time helpers: the wire formats ECS and STS use, and calendar-month arithmetic."""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta, timezone

UTC = timezone.utc
MINUTE_FORMAT = "%Y-%m-%dT%H:%MZ"  # ECS: ExpiredTime, CreationTime, Filter values
SECOND_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # RPC Timestamp, STS Expiration

_MINUTE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$")
_SECOND_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_minute(moment: datetime) -> datetime:
    """Drop seconds and below: ECS keeps expiry times at minute precision."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def format_minute(moment: datetime) -> str:
    # Same text as strftime(MINUTE_FORMAT), several times faster: DescribeInstances formats three per instance.
    m = moment.astimezone(UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}Z"


def format_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SECOND_FORMAT)


def parse_minute(text: str) -> datetime | None:
    """Strict ``yyyy-MM-ddTHH:mmZ``; anything else (seconds included) gives None."""
    if not _MINUTE_RE.match(text):
        return None
    try:
        return datetime.strptime(text, MINUTE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_second(text: str) -> datetime | None:
    """Strict ``YYYY-MM-DDTHH:MM:SSZ`` (the RPC ``Timestamp``)."""
    if not _SECOND_RE.match(text):
        return None
    try:
        return datetime.strptime(text, SECOND_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def parse_flexible(value: str | datetime) -> datetime:
    """For Python-side helpers (add_instance, fleet files): minute or second format, or a datetime."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return to_minute(moment)
    parsed = parse_minute(value) or parse_second(value)
    if parsed is None:
        raise ValueError(f"not a UTC time in yyyy-MM-ddTHH:mmZ or yyyy-MM-ddTHH:mm:ssZ form: {value!r}")
    return to_minute(parsed)


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months; the day is clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_weeks(moment: datetime, weeks: int) -> datetime:
    return moment + timedelta(weeks=weeks)
