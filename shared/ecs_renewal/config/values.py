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

# RenewInstance's accepted periods per site (RenewInstance doc, <props="china"> / <props="intl">): the China
# site allows Month 1-9, 12, 24, 36, 48, 60 and Week 1-4; the international site Month 1-9 and 12 only.
RENEW_PERIODS = {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 24, 36, 48, 60), "Week": (1, 2, 3, 4)}  # China (wider)
SITES = ("china", "intl")
RENEW_PERIODS_BY_SITE = {"china": RENEW_PERIODS, "intl": {"Month": (1, 2, 3, 4, 5, 6, 7, 8, 9, 12)}}
UNIFIED_DAYS = (1, 28)  # ExpectedRenewDay / the account's unified expiry day: 1..28


def renew_periods(site: str) -> dict[str, tuple[int, ...]]:
    """RenewInstance's periods per unit on this site (an unknown site gets the stricter, international set)."""
    return RENEW_PERIODS_BY_SITE.get(site, RENEW_PERIODS_BY_SITE["intl"])
AUTO_RENEW_DURATIONS = (1, 2, 3, 6, 12)

# ECS throttles per account (ParentUid), per region and per API (ECS "API throttling" doc; Quota Center's
# dimension "regionId, API, ParentUid"), thresholds written ``N/1(s)`` or ``N/60(s)``. Quota Center shows an
# account's own numbers only; none below was read for these exact APIs — every one is UNVERIFIED: the public
# ECS quota page lists many 2014-05-26 APIs at 1000/60(s) (500/60(s) for DescribePrice), and most Describe
# calls of Alibaba Cloud products at 100/1(s). Set ECS_MAX_QPS to your quota: in the same shape, per action,
# per region and action, per second or per minute. Each (region, action) is paced on its own.
DOCUMENTED_QUOTAS: dict[str, tuple[int, int]] = {  # action -> (calls, seconds); all UNVERIFIED
    "DescribeInstances": (100, 1),
    "DescribeInstanceAutoRenewAttribute": (100, 1),
    "ModifyInstanceAutoRenewAttribute": (1000, 60),
    "RenewInstance": (1000, 60),
    "DescribeRenewalPrice": (500, 60),
    "AssumeRole": (100, 1),
    "GetCallerIdentity": (100, 1),
}
DEFAULT_MAX_QPS = 20.0  # any action not in the table (tag APIs, BSS): conservative
_ACTION_PATTERN = r"^[A-Z][A-Za-z]{2,63}$"  # compiled only when ECS_MAX_QPS names an action
_RATE_PATTERN = r"^\s*([0-9.eE+-]+)\s*(?:/\s*(1|60)\s*s?)?\s*$"  # compiled only when ECS_MAX_QPS is set


class StatedRate(float):
    """Calls per second that ``ECS_MAX_QPS`` states (the operator's quota), not a documented default: the
    rate limiter paces closer to it (``gateway/lanes.py``, ``STATED_SHARE``)."""

    stated = True


def documented_qps(action: str) -> float:
    """Calls per second of an action's documented (unverified) quota; ``DEFAULT_MAX_QPS`` when unlisted."""
    quota = DOCUMENTED_QUOTAS.get(action)
    return quota[0] / quota[1] if quota else DEFAULT_MAX_QPS


def _rate(part: str, number: str) -> float:
    match = re.match(_RATE_PATTERN, number)
    try:
        calls, seconds = (float(match.group(1)), int(match.group(2) or 1)) if match else (float("nan"), 1)
    except ValueError:
        calls, seconds = float("nan"), 1
    rate = calls / seconds
    if not 0.1 <= rate <= 10_000:  # NaN fails this too
        raise ValueError(f"{part!r}: give calls per second from 0.1 to 10000 (or N/60 per minute), e.g. 100, "
                         "RenewInstance=20, RenewInstance=1000/60 or cn-hangzhou:RenewInstance=10")
    return rate


def max_qps(text: str) -> tuple[float | None, tuple[tuple[str, float], ...]]:
    """Quotas in Quota Center's shape: ``100`` (every action), ``RenewInstance=20`` or ``RenewInstance=1000/60``
    (one action, every region), ``cn-hangzhou:RenewInstance=10`` (one action in one region); any mix.

    Returns (the rate for every action, or None = the documented quota per action; the named rates).
    """
    default: float | None = None
    by_action: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        name, sep, number = part.rpartition("=")
        name = name.strip()
        if sep:
            region, colon, action = name.rpartition(":")
            if not re.match(_ACTION_PATTERN, action.strip()) or (colon and not REGION_RE.match(region.strip())):
                raise ValueError(f"{name!r} is not an API action name (or region:Action)")
            by_action[f"{region.strip()}:{action.strip()}" if colon else action.strip()] = _rate(part, number)
        else:
            default = _rate(part, number)
    return default, tuple(sorted(by_action.items()))


_TAG_NAME_PATTERN = r"^[^\s=,]{1,128}$"  # compiled only when a TAG_* name is set
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


def shard_size(text: str) -> int:
    """Account-regions per invocation before the run fans out; 0 turns fan-out off."""
    value = text.strip()
    if not value.isdigit() or int(value) > 10_000:
        raise ValueError("must be a whole number of account-regions (0 turns fan-out off)")
    return int(value) or NEVER


def tag_key(text: str) -> str:
    value = text.strip()
    if not re.match(_TAG_NAME_PATTERN, value):
        raise ValueError(f"{value!r} is not a usable tag key")
    return value


def time_zone(text: str) -> str:
    """Where people read the alerts: an IANA zone name this runtime can use."""
    name = text.strip()
    zone(name)  # raises ValueError naming the zone when unknown
    return name
