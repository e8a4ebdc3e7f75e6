"""Parsers for the settings that have a format of their own (shards, rates, tag keys, zones, fan-out size).

Each raises ``ValueError`` with the problem; ``resolve.py`` names the key or variable.
"""

from __future__ import annotations

import re
from typing import Any

from ..timeutil import zone

# Real region ids: cn-hangzhou, ap-southeast-1, cn-shanghai-finance-1, us-east-1 ... The SDK's resolver
# only knows these first segments, so anything else cannot be a region it can reach.
REGION_RE = re.compile(r"^(cn|ap|eu|us|me|rus|na|sa|af)-[a-z]+(-[a-z0-9]+){0,3}$")
# ECS instance ids: "i-" followed by lowercase letters and digits (e.g. i-bp1g6zv0ce8oghu7k2m9).
INSTANCE_ID_RE = re.compile(r"^i-[a-z0-9]{8,32}$")
ACCOUNT_ID_RE = re.compile(r"^\d{5,20}$")
MAX_REGIONS = 100
MAX_INSTANCE_IDS = 1000
MAX_ACCOUNT_IDS = 500

# RenewInstance's accepted periods (China site, the wider of the two; the international site is a subset).
RENEW_PERIODS = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60), "Week": (1, 2, 3, 4)}
AUTO_RENEW_DURATIONS = (1, 2, 3, 6, 12)

# ECS throttles per account, per API and per region; the thresholds are shown in Quota Center → API Rate
# Limits and are not published (unverified). 20 calls/s per action is a conservative default: set
# ECS_MAX_QPS to your quota. One limit per action covers every region at once (stricter than needed).
DEFAULT_MAX_QPS = 20.0
_ACTION_PATTERN = r"^[A-Z][A-Za-z]{2,63}$"  # compiled only when ECS_MAX_QPS names an action

_TAG_NAME_RE = re.compile(r"^[^\s=,]{1,128}$")
NEVER = 10**9  # SHARD_SIZE=0: a shard size no run reaches


def shard(value: Any) -> dict[str, Any]:
    """A shard marker set by a coordinator (see fanout.py): its presence means "never fan out again"."""
    if not isinstance(value, dict) or set(value) != {"index", "of", "coordinator"}:
        raise ValueError("must be an object with index, of and coordinator")
    index, of, coordinator = value["index"], value["of"], value["coordinator"]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (index, of)) or not 1 <= index <= of <= 10_000:
        raise ValueError("index and of must be whole numbers with 1 <= index <= of")
    if not isinstance(coordinator, str) or not 1 <= len(coordinator) <= 128:
        raise ValueError("coordinator must be a request id")
    return dict(value)


def max_qps(text: str) -> tuple[float, tuple[tuple[str, float], ...]]:
    """``100`` (every action), ``RenewInstance=20`` (one action), or both: ``100,RenewInstance=20``."""
    default, by_action = DEFAULT_MAX_QPS, {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        action, sep, number = part.rpartition("=")
        if sep and not re.match(_ACTION_PATTERN, action.strip()):
            raise ValueError(f"{action.strip()!r} is not an API action name")
        try:
            rate = float(number)
        except ValueError:
            rate = float("nan")
        if not 0.1 <= rate <= 10_000:  # NaN fails this too
            raise ValueError(f"{part!r}: give calls per second from 0.1 to 10000, e.g. 100 or RenewInstance=20")
        if sep:
            by_action[action.strip()] = rate
        else:
            default = rate
    return default, tuple(sorted(by_action.items()))


def shard_size(text: str) -> int:
    """Account-regions per invocation before the run fans out; 0 turns fan-out off."""
    value = text.strip()
    if not value.isdigit() or int(value) > 10_000:
        raise ValueError("must be a whole number of account-regions (0 turns fan-out off)")
    return int(value) or NEVER


def tag_key(text: str) -> str:
    value = text.strip()
    if not _TAG_NAME_RE.match(value):
        raise ValueError(f"{value!r} is not a usable tag key")
    return value


def time_zone(text: str) -> str:
    """Where people read the alerts: an IANA zone name this runtime can use."""
    name = text.strip()
    zone(name)  # raises ValueError naming the zone when unknown
    return name
