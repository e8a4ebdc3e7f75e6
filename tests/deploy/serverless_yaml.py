"""Offline stand-ins for what `s` does with s.yaml: resolve its magic variables, read timer cron expressions.

The `s` CLI downloads the fc3 component at run time (reference trap 10), so the tests render s.yaml
themselves: ``${vars.x}``, ``${env('X')}`` / ``${env('X', 'default')}`` and ``${config('AccountID')}``.
Anything else is an error here, so a new kind of variable cannot slip through unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAGIC = re.compile(r"\$\{([^{}]*)\}")
_ENV = re.compile(r"""env\(\s*(['"])([^'"]+)\1\s*(?:,\s*(['"])([^'"]*)\3\s*)?\)""")
_VAR = re.compile(r"vars\.([A-Za-z_][\w-]*)")
_CONFIG = re.compile(r"""config\(\s*(['"])(\w+)\1\s*\)""")


class UnresolvedVariable(ValueError):
    pass


@dataclass
class Resolver:
    variables: Mapping[str, Any]
    environ: Mapping[str, str]
    config: Mapping[str, str]

    def resolve(self, value: Any, depth: int = 0) -> Any:
        if depth > 10:
            raise UnresolvedVariable(f"variables refer to each other in a loop: {value!r}")
        if isinstance(value, dict):
            return {key: self.resolve(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, depth) for item in value]
        if not isinstance(value, str):
            return value
        whole = MAGIC.fullmatch(value)
        if whole:  # a value that is one variable keeps that variable's type
            return self.resolve(self._evaluate(whole.group(1)), depth + 1)
        return MAGIC.sub(lambda m: str(self.resolve(self._evaluate(m.group(1)), depth + 1)), value)

    def _evaluate(self, expression: str) -> Any:
        expression = expression.strip()
        if match := _VAR.fullmatch(expression):
            if match.group(1) not in self.variables:
                raise UnresolvedVariable(f"${{{expression}}}: no such entry in vars")
            return self.variables[match.group(1)]
        if match := _ENV.fullmatch(expression):
            name, default = match.group(2), match.group(4)
            if name in self.environ:
                return self.environ[name]
            if default is None:
                raise UnresolvedVariable(f"${{{expression}}}: {name} is not set and has no default")
            return default
        if match := _CONFIG.fullmatch(expression):
            return self.config[match.group(2)]
        raise UnresolvedVariable(f"${{{expression}}}: not a magic variable these tests know how to render")


def render(document: Mapping[str, Any], environ: Mapping[str, str], config: Mapping[str, str]) -> dict[str, Any]:
    """The document with every magic variable replaced, as `s preview` would print it."""
    return Resolver(document.get("vars") or {}, environ, config).resolve(dict(document))


# --- Function Compute timer cron ------------------------------------------------------------------------

# Six fields: Seconds Minutes Hours Day-of-month Month Day-of-week (function-compute.md, section 6).
FIELDS = (("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("day-of-month", 1, 31), ("month", 1, 12),
          ("day-of-week", 0, 6))
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
NAMES = {
    "month": {name: number for number, name in enumerate(MONTHS, start=1)},
    "day-of-week": {name: number for number, name in enumerate(WEEKDAYS)},
}
_EVERY = re.compile(r"@every\s+(?=\d)(?:(\d+)h)?(?:(\d+)m)?")


@dataclass(frozen=True)
class Cron:
    zone: str  # "UTC" unless CRON_TZ= says otherwise
    fields: tuple[str, ...] = ()
    every_minutes: int | None = None

    def daily_time(self) -> time | None:
        """The time of day it fires, when it fires once a day at a fixed time (else None)."""
        if self.every_minutes is not None:
            return None
        second, minute, hour, day, month, weekday = self.fields
        if not all(f.isdigit() for f in (second, minute, hour)) or {day, month, weekday} - {"*", "?"}:
            return None
        return time(int(hour), int(minute), int(second))

    def fires_at_utc(self, on: date) -> datetime | None:
        at = self.daily_time()
        if at is None:
            return None
        return datetime.combine(on, at, tzinfo=ZoneInfo(self.zone)).astimezone(ZoneInfo("UTC"))


def parse_cron(expression: str) -> Cron:
    """Function Compute's cron: ``[CRON_TZ=<zone> ]<six fields>`` or ``@every <n>h<m>m``; ValueError if not."""
    text, zone = expression.strip(), "UTC"
    if text.startswith("CRON_TZ="):
        zone, _, text = text[len("CRON_TZ="):].partition(" ")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"CRON_TZ={zone}: not a time zone") from None
        text = text.strip()
    if text.startswith("@every"):
        match = _EVERY.fullmatch(text)
        minutes = (int(match.group(1) or 0) * 60 + int(match.group(2) or 0)) if match else 0
        if minutes < 1:
            raise ValueError(f"{text!r}: @every takes a duration such as 30m or 2h, at least one minute")
        return Cron(zone, every_minutes=minutes)
    fields = text.split()
    if len(fields) != 6:
        raise ValueError(f"{text!r}: {len(fields)} fields; Function Compute's cron has six "
                         "(seconds minutes hours day-of-month month day-of-week)")
    for value, (name, low, high) in zip(fields, FIELDS, strict=True):
        _check_field(value, name, low, high)
    if fields[3] == "?" and fields[5] == "?":
        raise ValueError("day-of-month and day-of-week cannot both be '?'")
    return Cron(zone, tuple(fields))


def _check_field(value: str, name: str, low: int, high: int) -> None:
    if value == "?":
        if name not in ("day-of-month", "day-of-week"):
            raise ValueError(f"{name}: '?' is only allowed in day-of-month and day-of-week")
        return
    for part in value.split(","):
        base, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            raise ValueError(f"{name}: bad step in {part!r}")
        if base == "*":
            continue
        ends = base.split("-")
        if len(ends) > 2 or not all(_number(end, name, low, high) is not None for end in ends):
            raise ValueError(f"{name}: {part!r} is not a value or range within {low}..{high}")
        if len(ends) == 2 and _number(ends[0], name, low, high) > _number(ends[1], name, low, high):  # type: ignore[operator]
            raise ValueError(f"{name}: range {base!r} runs backwards")


def _number(text: str, name: str, low: int, high: int) -> int | None:
    number = int(text) if text.isdigit() else NAMES.get(name, {}).get(text.upper())
    return number if number is not None and low <= number <= high else None
