"""The renewal ledger's two records, each one short tag value (``renewal_ledger.py`` says what they mean).

- :class:`Intent` (``ecs-renewal:intent``): when, which run, the expiry the decision was based on, the
  terms and the ClientToken's fingerprint;
- :class:`Outcome` (``ecs-renewal:renewed``): when, the order id (or the refusal's code), the old expiry
  and the expiry it should now have.

Both are ``key=value`` words in the characters every tagging console accepts, and both are bound to
their instance by the fingerprint (the token hashes the instance id). Reading a record that is not one
gives None, never an error: a tag is anyone's to edit.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

from ..timeutil import format_minute
from .keys import TOKEN_PREFIX, renewal_client_token

INTENT_TAG = "ecs-renewal:intent"
OUTCOME_TAG = "ecs-renewal:renewed"
LEDGER_TAGS = (INTENT_TAG, OUTCOME_TAG)
FINGERPRINT_CHARS = 12
MAX_RUN_CHARS = 36
MAX_CODE_CHARS = 40
SECOND_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MINUTE_FORMAT = "%Y-%m-%dT%H:%MZ"
# Patterns as text, compiled (and cached by ``re``) on first use: a dry run, the default, writes no record
# and a fleet with no ledger tags reads none — neither pays for them at a cold start.
# Tag values: letters, digits, spaces and _ . : / = + - @ (what every Alibaba Cloud tagging console accepts).
_UNSAFE = r"[^A-Za-z0-9_.:/=+\-@]"
_TERMS = r"(?:(\d{1,2})([MW])|D(\d{1,2}))"


def _safe(text: str, limit: int) -> str:
    return re.sub(_UNSAFE, "-", text)[:limit]


def compact_terms(period: int | None, unit: str | None, expected_renew_day: int | None) -> str:
    """``1M``, ``2W`` or ``D15`` (to the unified expiry day 15)."""
    if expected_renew_day is not None:
        return f"D{expected_renew_day}"
    return f"{period}{'W' if unit == 'Week' else 'M'}"


def terms_of(text: str) -> tuple[int | None, str | None, int | None] | None:
    """(period, unit, expected_renew_day) from :func:`compact_terms`' text, or None."""
    match = re.fullmatch(_TERMS, text)
    if not match:
        return None
    if match.group(3):
        return None, None, int(match.group(3))
    return int(match.group(1)), "Week" if match.group(2) == "W" else "Month", None


def fingerprint(token: str) -> str:
    return token.removeprefix(TOKEN_PREFIX)[:FINGERPRINT_CHARS]


def _fields(text: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in text.split() if "=" in part)


def _time(text: str | None, pattern: str) -> datetime | None:
    try:
        return datetime.strptime(text or "", pattern).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def _read(text: str) -> tuple[dict[str, str], datetime, datetime] | None:
    """What every record starts with — its fields, ``at`` and ``old`` — or None when it is not a record
    (either time unreadable, no terms, no token)."""
    values = _fields(text)
    at, old = _time(values.get("at"), SECOND_FORMAT), _time(values.get("old"), MINUTE_FORMAT)
    if at is None or old is None or terms_of(values.get("terms", "")) is None or not values.get("tok"):
        return None
    return values, at, old


# NamedTuples, not frozen dataclasses: immutable values compared by value like them, for a tenth of the
# cost to define at a cold start (a frozen dataclass execs six generated methods; bench/probes.py imports).
class Intent(NamedTuple):
    """Written before RenewInstance: this run is about to renew this expiry on these terms."""

    at: datetime
    run: str
    old: datetime
    terms: str
    token: str  # the ClientToken's fingerprint

    def encode(self) -> str:
        return (f"at={self.at.strftime(SECOND_FORMAT)} old={format_minute(self.old)} terms={self.terms} "
                f"tok={self.token} run={_safe(self.run or '-', MAX_RUN_CHARS)}")

    @classmethod
    def decode(cls, text: str) -> Intent | None:
        read = _read(text)
        return None if read is None else cls(read[1], read[0].get("run", ""), read[2], read[0]["terms"], read[0]["tok"])


class Outcome(NamedTuple):
    """Written after RenewInstance answered: the order and the expiry move it should make, or the refusal."""

    at: datetime
    order_id: str
    old: datetime
    new: datetime | None  # None: to the unified expiry day (the platform's date), or refused
    terms: str
    token: str
    failed: str = ""  # the error code when ECS refused the renewal (nothing was renewed)

    def encode(self) -> str:
        head = f"at={self.at.strftime(SECOND_FORMAT)} "
        if self.failed:
            head += f"failed={_safe(self.failed, MAX_CODE_CHARS)} old={format_minute(self.old)}"
        else:
            new = format_minute(self.new) if self.new else "?"
            head += f"order={_safe(self.order_id or '-', 32)} old={format_minute(self.old)} new={new}"
        return f"{head} terms={self.terms} tok={self.token}"

    @classmethod
    def decode(cls, text: str) -> Outcome | None:
        read = _read(text)
        if read is None:
            return None
        values, at, old = read
        return cls(at, values.get("order", ""), old, _time(values.get("new"), MINUTE_FORMAT), values["terms"],
                   values["tok"], values.get("failed", ""))


def intent_for(instance_id: str, old: datetime, terms: str, *, run: str | None, now: datetime) -> Intent:
    """The intent to renew ``old`` on ``terms`` (:func:`compact_terms`), bound to the instance by its token."""
    parsed = terms_of(terms)
    if parsed is None:
        raise ValueError(f"not renewal terms: {terms!r}")
    token = renewal_client_token(instance_id, old, *parsed)
    return Intent(now.replace(microsecond=0), run or "", old, terms, fingerprint(token))


def outcome_for(intent: Intent, order_id: str, *, now: datetime) -> Outcome:
    return Outcome(now.replace(microsecond=0), order_id, intent.old, expected_expiry(intent.old, intent.terms),
                   intent.terms, intent.token)


# ---- arithmetic


def _add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, the day clamped to the month's last day (Jan 31 + 1 month = Feb 28/29)."""
    import calendar

    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def expected_expiry(old: datetime, terms: str) -> datetime | None:
    """Where one renewal on these terms moves ``old`` to (None for the unified day: the platform's date)."""
    parsed = terms_of(terms)
    if parsed is None or parsed[2] is not None:
        return None
    period, unit, _ = parsed
    return old + timedelta(weeks=period or 0) if unit == "Week" else _add_months(old, period or 0)
