"""When the platform's auto-renew charges, and how to tell that its deduction failed.

Alibaba Cloud's auto-renew deducts the renewal at 08:00 (UTC+8) on the day nine days before the
instance expires, and tries again every day after that until the expiry (the auto-renew doc; the
emulator's README cites it). So an instance whose auto-renew is on (``RenewalStatus`` ``AutoRenewal``)
and which is still inside those last nine days after the first attempt has a failed deduction —
usually the balance. Pure functions: no clock of their own, the caller says what "now" is.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

DEDUCTION_LEAD_DAYS = 9
DEDUCTION_HOUR_UTC8 = 8
BEIJING = timezone(timedelta(hours=8), "UTC+8")
AUTO_RENEWAL = "AutoRenewal"


def first_deduction_at(expired_time: datetime) -> datetime:
    """08:00 UTC+8 on the calendar day (in UTC+8) nine days before the expiry."""
    day = (expired_time.astimezone(BEIJING) - timedelta(days=DEDUCTION_LEAD_DAYS)).date()
    return datetime.combine(day, time(DEDUCTION_HOUR_UTC8), BEIJING).astimezone(timezone.utc)


def deduction_failed(expired_time: datetime, renewal_status: str | None, now: datetime) -> bool:
    """Auto-renew is on, the first deduction is past and the instance has not expired yet: a renewal that
    went through would have moved the expiry beyond the nine days, so this one has not been paid."""
    return renewal_status == AUTO_RENEWAL and first_deduction_at(expired_time) <= now < expired_time


def deduction_due_within(expired_time: datetime, renewal_status: str | None, now: datetime,
                         horizon: timedelta) -> bool:
    """The platform will try to charge this instance between ``now`` and ``now + horizon`` (a failed
    deduction is tried again daily: it is due too)."""
    if renewal_status != AUTO_RENEWAL or expired_time <= now:
        return False
    return first_deduction_at(expired_time) <= now + horizon
