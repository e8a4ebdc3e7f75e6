"""Reminder tiers: group expiring instances by how many days they have left (30/15/7/3/1 by default).

An instance belongs to the smallest tier that is at least its days left: 6.5 days → tier 7, exactly 7
days → tier 7, 0 days (expires today) → tier 1, already expired → the "expired" tier, which is always
the most urgent.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import InvalidSettingError

DEFAULT_TIERS = (30, 15, 7, 3, 1)
EXPIRED = -1  # tier key for instances whose expiry has passed


def parse_tiers(environ: Mapping[str, str]) -> tuple[int, ...]:
    """``ALERT_TIERS`` from an environment (the default when unset); raises InvalidSettingError."""
    text = environ.get("ALERT_TIERS", "").strip()
    if not text:
        return DEFAULT_TIERS
    try:
        return tiers_from_text(text)
    except ValueError as error:
        raise InvalidSettingError("ALERT_TIERS", str(error)) from None


def tiers_from_text(text: str) -> tuple[int, ...]:
    """``"30,15,7"`` → (30, 15, 7): whole days from 1 to 365, largest first; ValueError says why not."""
    try:
        tiers = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ValueError(f"must be comma-separated whole days, got {text.strip()!r}") from None
    if not tiers or tiers[-1] < 1 or tiers[0] > 365:
        raise ValueError("days must be from 1 to 365")
    return tuple(tiers)


def tier_of(days_left: float, tiers: tuple[int, ...] = DEFAULT_TIERS) -> int | None:
    """The tier (in days) for this many days left; EXPIRED when past; None when beyond the largest tier."""
    if days_left < 0:
        return EXPIRED
    for tier in sorted(tiers):
        if days_left <= tier:
            return tier
    return None


def tier_label(tier: int | None) -> str:
    if tier == EXPIRED:
        return "expired"
    if tier is None:
        return "later"
    return f"≤ {tier} day{'s' if tier != 1 else ''}"
