"""What every job shares: its inputs, the result's common keys, per-region error isolation, and the pools.

Regions are worked in parallel (``REGION_CONCURRENCY`` at once), and calls inside a region may be too
(:func:`bounded_map`). The API's rate limit is kept by the caller's limiter, not by the pool sizes: the
pools only have to be wide enough to keep calls in flight while others wait for their answers. Results
never depend on the interleaving: they are collected per region and returned in the settings' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import ApiError
from ..gateway.client import CallStats
from ..gateway.ecs import EcsGateway
from ..logs import JsonLogger
from ..settings import Settings, Throughput

T = TypeVar("T")
U = TypeVar("U")


@dataclass
class JobContext:
    settings: Settings
    gateway: EcsGateway
    log: JsonLogger
    stats: CallStats
    throughput: Throughput = field(default_factory=Throughput)


def base_result(ctx: JobContext, *, with_window: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "job": ctx.settings.job,
        "dry_run": ctx.settings.dry_run,
        "regions": list(ctx.settings.regions),
    }
    if with_window:
        result["window"] = ctx.settings.window.as_dict()
    result["errors"] = []
    return result


def region_error(region: str, error: Exception) -> dict[str, str]:
    if isinstance(error, ApiError):
        return {"region": region, "code": error.code, "message": error.message}
    return {"region": region, "code": type(error).__name__, "message": str(error)[:300]}


def per_region(
    ctx: JobContext, work: Callable[[str], T], errors: list[dict[str, str]]
) -> list[tuple[str, T]]:
    """Run ``work`` for each region, ``REGION_CONCURRENCY`` at once; one region's failure is recorded and
    never stops the others. Results (and errors) come back in the order of ``settings.regions``."""

    def guarded(region: str) -> tuple[bool, T | dict[str, str]]:
        try:
            return True, work(region)
        except Exception as error:  # noqa: BLE001 - isolation is the point: report, go on
            entry = region_error(region, error)
            ctx.log.error("region_failed", **entry)
            return False, entry

    done: list[tuple[str, T]] = []
    regions = ctx.settings.regions
    for region, (ok, value) in zip(regions, bounded_map(guarded, regions, ctx.throughput.region_concurrency),
                                   strict=True):
        if ok:
            done.append((region, value))  # type: ignore[arg-type]
        else:
            errors.append(value)  # type: ignore[arg-type]
    return done


def bounded_map(work: Callable[[T], U], items: Iterable[T], workers: int) -> list[U]:
    """``[work(item) for item in items]`` with at most ``workers`` running at once; results in input order.

    ``work`` catches what it wants to isolate. Anything it raises stops the map like an abort would: items
    not yet started are dropped, those in flight finish, and the exception is raised here.
    """
    items = list(items)
    if workers <= 1 or len(items) <= 1:
        return [work(item) for item in items]  # no thread for what cannot overlap
    with ThreadPoolExecutor(max_workers=min(workers, len(items)), thread_name_prefix="ecs-renewal") as pool:
        futures = [pool.submit(work, item) for item in items]
        wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            future.cancel()  # only those not started yet: nothing new begins after a failure
        return [future.result() for future in futures]


def finish(ctx: JobContext, result: dict[str, Any]) -> dict[str, Any]:
    result["api_calls"] = ctx.stats.as_dict()
    limiter = ctx.gateway.caller.limiter
    if limiter is not None:  # how the run met the rate limit: time spent waiting, throttling answers
        ctx.log.info("api_usage", calls=result["api_calls"], by_action=limiter.usage())
    return result
