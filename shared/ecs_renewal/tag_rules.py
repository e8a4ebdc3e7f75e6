"""Per-instance renewal rules read from the instance's own tags.

An owner can say, on the instance itself, how it should be renewed and whom to tell:

| tag (default name) | value | effect |
| --- | --- | --- |
| ``renewal-period`` | an integer | renew for this many units instead of the run's ``period`` |
| ``renewal-unit`` | ``Month`` / ``Week`` | the unit for that period |
| ``renewal-day`` | 1..28 | renew up to the account's unified expiry day (``ExpectedRenewDay``) instead of a period |
| ``owner`` | a mobile number or a DingTalk user id | @-mentioned in the alerts |

The names are configurable (``TAG_RENEWAL_PERIOD``, ``TAG_RENEWAL_UNIT``, ``TAG_RENEWAL_DAY``,
``TAG_OWNER``). A value that is not valid makes that instance a skip with the reason — never a crash,
never a guess. The opt-out tag is the exclude tag (``RENEW_EXCLUDE_TAG``, default ``renewal=manual``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from .config.build import DEFAULT_TAG_NAMES, TagNames  # the tag names are settings (TAG_RENEWAL_PERIOD ...)
from .config.values import RENEW_PERIODS, renew_periods

# RenewalTerms and Owner are NamedTuples: small immutable values, far cheaper to define at a cold start.
__all__ = ["DEFAULT_TAG_NAMES", "Owner", "RenewalTerms", "TagNames", "owner_of", "renewal_terms"]

# A mainland mobile number: 11 digits from 1, optionally after the country code. Any other value of
# digits is a DingTalk userId (they are often numeric): sent as a mobile, it would @-mention nobody.
# Compiled (and cached by ``re``) when the first owner tag is read: most instances carry none.
_MOBILE_PATTERN = r"^(?:\+?86)?1\d{10}$"
_USER_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"


class RenewalTerms(NamedTuple):
    """How one instance is renewed: a period and unit, or up to a unified expiry day."""

    period: int | None
    unit: str | None
    expected_renew_day: int | None = None
    from_tags: bool = False

    @property
    def min_days(self) -> int:
        """The least an expiry moves: a month is at least 28 days; a unified-day renewal is taken as a month."""
        if self.expected_renew_day is not None:
            return 28
        return (self.period or 0) * (7 if self.unit == "Week" else 28)

    def describe(self) -> str:
        if self.expected_renew_day is not None:
            return f"to day {self.expected_renew_day}"
        return f"{self.period} {self.unit}{'s' if self.period != 1 else ''}"


class Owner(NamedTuple):
    """Whom to @-mention, typed once when the tag is read: a mobile number or a DingTalk userId."""

    mobile: str | None = None
    user_id: str | None = None

    @property
    def kind(self) -> str:
        return "mobile" if self.mobile else "user_id"

    @property
    def value(self) -> str:
        return self.mobile or self.user_id or ""

    @property
    def mention(self) -> str:
        return f"@{self.value}"


def renewal_terms(
    tags: Mapping[str, str], names: TagNames, period: int, unit: str, *, site: str = "china",
    unified_day: int | None = None,
) -> RenewalTerms | str:
    """The instance's terms, or the reason (a string) why its tags cannot be followed.

    Checked here, before any call, against what RenewInstance accepts: the site's periods (``SITE``) and the
    account's unified expiry day (``UNIFIED_EXPIRY_DAY``) — ``ExpectedRenewDay`` must equal it, and an
    account without one cannot renew to a day at all.
    """
    day_text = tags.get(names.renew_day, "").strip()
    period_text = tags.get(names.period, "").strip()
    unit_text = tags.get(names.unit, "").strip()
    if day_text:
        if period_text or unit_text:
            return f"tags {names.renew_day} and {names.period}/{names.unit} conflict: use one of them"
        return _unified_day_terms(day_text, names, unified_day)
    if not period_text and not unit_text:
        return RenewalTerms(period, unit)
    return _period_terms(period_text, unit_text or unit, names, period, site)


def _unified_day_terms(day_text: str, names: TagNames, unified_day: int | None) -> RenewalTerms | str:
    if not day_text.isdigit() or not 1 <= int(day_text) <= 28:
        return f"tag {names.renew_day}={day_text!r} is not a day from 1 to 28"
    if unified_day is None:
        return (f"tag {names.renew_day}={day_text}: the account has no unified expiry day (set "
                "UNIFIED_EXPIRY_DAY once it is configured in the console)")
    if int(day_text) != unified_day:
        return (f"tag {names.renew_day}={day_text} is not the account's unified expiry day ({unified_day}, "
                "UNIFIED_EXPIRY_DAY)")
    return RenewalTerms(None, None, int(day_text), from_tags=True)


def _period_terms(period_text: str, chosen_unit: str, names: TagNames, period: int, site: str) -> RenewalTerms | str:
    periods = renew_periods(site)
    if chosen_unit not in RENEW_PERIODS:
        return f"tag {names.unit}={chosen_unit!r} is not Month or Week"
    if chosen_unit not in periods:
        return f"tag {names.unit}={chosen_unit} is not a renewal unit on the {site} site (SITE)"
    chosen_period = period
    if period_text:
        if not period_text.isdigit():
            return f"tag {names.period}={period_text!r} is not a whole number"
        chosen_period = int(period_text)
    if chosen_period not in periods[chosen_unit]:
        allowed = ", ".join(map(str, periods[chosen_unit]))
        where = f" on the {site} site" if periods is not RENEW_PERIODS else ""
        return f"tag {names.period}={chosen_period} is not renewable in {chosen_unit}s{where} (allowed: {allowed})"
    return RenewalTerms(chosen_period, chosen_unit, from_tags=True)


def owner_of(tags: Mapping[str, str], names: TagNames) -> Owner | None:
    """The owner to @-mention; an unusable value is ignored (alerts still go to the group)."""
    value = tags.get(names.owner, "").strip()
    if not value:
        return None
    if re.match(_MOBILE_PATTERN, value):
        return Owner(mobile=value.lstrip("+"))
    if re.match(_USER_ID_PATTERN, value):
        return Owner(user_id=value)
    return None
