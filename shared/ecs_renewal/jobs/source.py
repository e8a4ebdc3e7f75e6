"""Where a job's instances come from (Cloud Custodian's resource source): per region, through the gateway.

- the window: prepaid instances whose expiry falls in it (the server-side filter, then our own check);
- the window and a look ahead (renew-batch's funds forecast): ONE read per region of the union of the two
  windows, split here — the candidates (the window, as above) and the look ahead's prepaid instances
  (the server filter's inclusive edges, applied by us); two windows that do not meet are read apart;
- named instances: exactly ``instance_ids``, looked up in every region, any charge type (policy says why
  not a pay-as-you-go one); an id found nowhere is a failure, said as "not found" or, when a region could
  not be read, as "RegionUnavailable".
"""

from __future__ import annotations

from typing import NamedTuple

from ..config.window import Window
from ..gateway.models import Instance
from ..records import Failure, RegionError
from ..timeutil import is_placeholder_expiry
from .base import JobContext, per_region


def expiring_instances(ctx: JobContext, region: str, *, prove_empty: bool = True) -> list[Instance]:
    """Server-side filter for the window, then our own check: the filter's edge semantics are undocumented.

    ``prove_empty=False``: the caller proves an empty answer itself (the scan counts the region).
    """
    window = ctx.settings.window
    found = ctx.gateway.instances(region, expired_start=window.start, expired_end=window.end, prove_empty=prove_empty)
    return [instance for instance in found if in_window(window, instance)]


def in_window(window: Window, instance: Instance) -> bool:
    return (instance.is_prepaid and not is_placeholder_expiry(instance.expired_time)
            and window.contains(instance.expired_time))


class Sourced(NamedTuple):  # immutable; cheaper to define at a cold start than a dataclass
    instances: tuple[Instance, ...]
    errors: tuple[RegionError, ...]
    missing: tuple[Failure, ...] = ()


def expiring(ctx: JobContext) -> Sourced:
    found, errors = per_region(ctx, lambda region: expiring_instances(ctx, region))
    return Sourced(tuple(i for _, instances in found for i in instances), tuple(errors))


Ahead = dict[str, tuple[Instance, ...]]  # per region read: the look ahead's prepaid instances


def expiring_and_ahead(ctx: JobContext, ahead: Window) -> tuple[Sourced, Ahead | None]:
    """The window's candidates and ``ahead``'s prepaid instances, from one read per region of their union.

    None for the look ahead when the two windows do not meet (an event's own window far from now): the
    gap between them could cost more pages than a second read.
    """
    window = ctx.settings.window
    if ahead.start > window.end or window.start > ahead.end:
        return expiring(ctx), None
    union = Window(min(window.start, ahead.start), max(window.end, ahead.end))

    def read(region: str) -> list[Instance]:
        return [i for i in ctx.gateway.instances(region, expired_start=union.start, expired_end=union.end)
                if i.is_prepaid]

    found, errors = per_region(ctx, read)
    instances = tuple(i for _, listed in found for i in listed if in_window(window, i))
    # The look ahead's own filter was the server's, inclusive at both ends (as Window.contains).
    return (Sourced(instances, tuple(errors)),
            {region: tuple(i for i in listed if ahead.contains(i.expired_time)) for region, listed in found})


def named(ctx: JobContext, ids: tuple[str, ...]) -> Sourced:
    wanted = sorted(set(ids))
    found, errors = per_region(ctx, lambda region: list(ctx.gateway.instances(
        region, prepaid_only=False, instance_ids=wanted)))
    instances = tuple(i for _, region_instances in found for i in region_instances)
    seen = {instance.instance_id for instance in instances}
    unread = sorted({error.region or "" for error in errors})
    missing = tuple(_missing(ctx, instance_id, unread) for instance_id in wanted if instance_id not in seen)
    return Sourced(instances, tuple(errors), missing)


def _missing(ctx: JobContext, instance_id: str, unread: list[str]) -> Failure:
    if unread:  # it may live in a region we could not read: not renewed, and said so
        return Failure(instance_id, None, "RegionUnavailable",
                       f"not found in the regions read; could not read {', '.join(unread)}")
    return Failure(instance_id, None, "InvalidInstanceId.NotFound", f"not found in {', '.join(ctx.settings.regions)}")


def candidates(ctx: JobContext) -> Sourced:
    ids = ctx.settings.instance_ids
    return expiring(ctx) if ids is None else named(ctx, ids)
