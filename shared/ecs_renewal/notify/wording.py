"""Operators' words for the cloud's enums, for everything a person reads: messages, tables, the page.

JSON and CSV keep the API's values (``AutoRenewal``, ``PrePaid``, ...): they are the contract scripts
rely on. Only text meant for people goes through here, so the vocabulary lives in one place. A value
this module does not know is shown as it came (never dropped, never guessed).
"""

from __future__ import annotations

import re
from typing import Any

# RenewalStatus of DescribeInstanceAutoRenewAttribute. "Normal" means "renewed by hand": auto-renew is
# off; "NotRenewal" means the owner chose to let the instance expire (no more expiry reminders either).
_AUTO_RENEW_STATE = {"AutoRenewal": "on", "Normal": "off", "NotRenewal": "letting it expire"}

_UNITS = {"month": "month", "week": "week", "year": "year", "day": "day", "hour": "hour"}

# DescribeInstances Status.
_INSTANCE_STATUS = {
    "Pending": "being created", "Starting": "starting", "Running": "running", "Stopping": "stopping",
    "Stopped": "stopped",
}

# InstanceChargeType.
_CHARGE_TYPE = {"PrePaid": "subscription (prepaid)", "PostPaid": "pay-as-you-go"}

# Enum values that appear inside the jobs' skip reasons, and what a person calls them.
_REASON_WORDS = (
    (re.compile(r"owner set NotRenewal: the instance is being let go on purpose"),
     "the owner is letting it expire on purpose"),
    (re.compile(r"\bNotRenewal\b"), "letting it expire"),
    (re.compile(r"\bAutoRenewal\b"), "auto-renew on"),
    (re.compile(r"\bPostPaid\b"), "pay-as-you-go"),
    (re.compile(r"\bPrePaid\b"), "subscription"),
)


def period_phrase(period: Any, unit: Any = "Month") -> str:
    """``1, "Month"`` → "1 month"; ``3, "Month"`` → "3 months". A malformed value is shown as it came."""
    noun = _UNITS.get(str(unit or "Month").lower().rstrip("s"), str(unit or "").lower())
    try:
        count = int(period)
    except (TypeError, ValueError):
        return f"{period} {noun}s".strip()
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def auto_renew_state(status: Any, duration: Any = None, unit: Any = "Month") -> str:
    """The setting in a word or three: "on, 1 month", "off", "letting it expire", "unknown".

    ``status`` is a RenewalStatus ("AutoRenewal", "Normal", "NotRenewal") or the audit's enabled flag
    (True / False); ``duration`` and ``unit`` say how long each automatic renewal is, when known.
    """
    if status is None or status == "":
        return "unknown"
    as_word = ("on" if status else "off") if isinstance(status, bool) else None
    state = as_word or _AUTO_RENEW_STATE.get(str(status), str(status))
    if state == "on" and duration not in (None, "", 0, "0"):
        return f"on, {period_phrase(duration, unit)}"
    return state


def auto_renew_phrase(status: Any, duration: Any = None, unit: Any = "Month") -> str:
    """As a phrase in a sentence: "auto-renew on, 1 month", "auto-renew off", "letting it expire"."""
    state = auto_renew_state(status, duration, unit)
    return state if state == "letting it expire" else f"auto-renew {state}"


def audited_state(enabled: Any, duration: Any = None, renewal_status: Any = None) -> str:
    """An audited instance's setting in a word or three: "letting it expire" when the owner said so,
    else its flag and duration ("on, 3 months", "off")."""
    return auto_renew_state("NotRenewal" if renewal_status == "NotRenewal" else enabled, duration)


def instance_status_phrase(status: Any) -> str:
    """"Running" → "running", "Pending" → "being created"; unknown values as they came."""
    return _INSTANCE_STATUS.get(str(status), str(status)) if status not in (None, "") else "unknown"


def charge_type_phrase(charge_type: Any) -> str:
    """"PrePaid" → "subscription (prepaid)", "PostPaid" → "pay-as-you-go"."""
    return _CHARGE_TYPE.get(str(charge_type), str(charge_type)) if charge_type not in (None, "") else "unknown"


def terms_phrase(terms: Any) -> str:
    """The renewal terms a job reports ("1 Month", "3 Months", "to day 5") in lower case words."""
    match = re.fullmatch(r"\s*(\d+)\s+([A-Za-z]+?)s?\s*", str(terms))
    return period_phrase(match.group(1), match.group(2)) if match else str(terms)


def reason_phrase(reason: Any) -> str:
    """A skip reason with the API's enum words replaced by plain ones."""
    text = str(reason)
    for pattern, words in _REASON_WORDS:
        text = pattern.sub(words, text)
    return text
