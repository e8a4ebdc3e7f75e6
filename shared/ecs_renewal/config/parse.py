"""Value parsers: each takes a raw value and returns the clean one, or raises ``ValueError`` saying why.

Two families: *event* checks take what JSON gave (a bool is a bool, a list is a list) and *environment*
parsers take the variable's string. The caller (``resolve.py``) turns the ``ValueError`` into an error
that names the event key or the variable.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from ..timeutil import parse_minute

Check = Callable[[Any], Any]
EnvParse = Callable[[str], Any]


class TagMatcher(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    """``key=value`` (exact) or ``key`` (any value)."""

    key: str
    value: str | None = None

    def matches(self, tags: Mapping[str, str]) -> bool:
        if self.key not in tags:
            return False
        return self.value is None or tags[self.key] == self.value

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


def short(value: Any) -> str:
    """A value quoted in an error message, cut so that a huge event cannot flood the log."""
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# --- event checks ---------------------------------------------------------------------------------------


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise ValueError("must be true or false")


def int_in(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer from {low} to {high}")
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    return check


def one_of(choices: tuple[Any, ...]) -> Check:
    def check(value: Any) -> Any:
        if isinstance(value, bool) or value not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}, got {short(value)}")
        return value

    return check


def id_list(pattern: re.Pattern[str], what: str, limit: int) -> Check:
    """A non-empty JSON list of ids, each matching ``pattern``; duplicates dropped, order kept."""

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
                raise ValueError(f"{short(item)} is not a valid {what}")
            seen[item] = None
        return tuple(seen)

    return check


def minute(value: Any) -> datetime:
    return parse_minute(value)


def money(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN != NaN
        raise ValueError("must be a number (the account's currency)")
    if not 0 <= value <= 1e9:
        raise ValueError(f"must be from 0 to 1e9, got {value}")
    return float(value)


# --- environment parsers: the variable's string → the same clean value -----------------------------------


def env_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off"):
        return False
    raise ValueError("must be true or false")


def env_int(check: Check) -> EnvParse:
    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError(f"must be an integer, got {value!r}") from None
        return check(number)

    return parse


def env_list(check: Check) -> EnvParse:
    return lambda value: check([part.strip() for part in value.split(",") if part.strip()])


def env_text(check: Check) -> EnvParse:
    return lambda value: check(value.strip())


def env_money(value: str) -> float:
    try:
        return money(float(value.strip()))
    except ValueError as error:
        raise ValueError(str(error) if "must" in str(error) else f"must be a number, got {value!r}") from None


def env_seconds(low: float, high: float) -> EnvParse:
    """A number of seconds, as a string (the variable) or a number (Function Compute's context)."""

    def parse(value: str | float) -> float:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise ValueError(f"must be a number of seconds, got {short(value)}") from None
        if not low <= number <= high:  # NaN fails this too
            raise ValueError(f"must be from {low:g} to {high:g} seconds, got {short(value)}")
        return number

    return parse


def env_tag(value: str) -> TagMatcher | None:
    value = value.strip()
    if not value:
        return None
    key, sep, tag_value = value.partition("=")
    if not key.strip():
        raise ValueError("must be key=value or key")
    return TagMatcher(key.strip(), tag_value.strip() if sep else None)


def env_pattern(pattern: str, problem: str) -> EnvParse:
    """A string that must match ``pattern`` (compiled only when the variable is set)."""

    def parse(value: str) -> str:
        value = value.strip()
        if not re.match(pattern, value):
            raise ValueError(problem)
        return value

    return parse


def env_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not re.match(r"^https?://[A-Za-z0-9.\-\[\]:]+$", value):
        raise ValueError("must be a base URL with its scheme, e.g. http://127.0.0.1:18080")
    return value


def env_as_is(value: str) -> str:
    """Read and checked by its owner module (credentials, accounts, Function Compute): kept as given."""
    return value
