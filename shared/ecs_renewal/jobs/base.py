"""What every job shares: its inputs, per-region error isolation, the pools, and the run's call figures.

Regions are worked in parallel (``REGION_CONCURRENCY`` at once), and calls inside a region may be too
(:func:`bounded_map`). The API's rate limit is kept by the caller's limiter, not by the pool sizes: the
pools only have to be wide enough to keep calls in flight while others wait for their answers. Workers
return values and the job assembles them, in the settings' order: results never depend on the
interleaving, and no list is shared between threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from ..gateway.ecs import EcsGateway
from ..logs import JsonLogger
from ..records import RegionError

if TYPE_CHECKING:
    from ..settings import Settings, Throughput

T = TypeVar("T")
U = TypeVar("U")


class JobContext(NamedTuple):
    """What a job runs with: its settings, its door to the cloud, its log, its pace."""

    settings: Settings
    gateway: EcsGateway
    log: JsonLogger
    throughput: Throughput
    run_id: str | None = None  # the invocation's request id: the renewal ledger names the run that acted


def per_region(ctx: JobContext, work: Callable[[str], T]) -> tuple[list[tuple[str, T]], list[RegionError]]:
    """Run ``work`` for each region, ``REGION_CONCURRENCY`` at once; one region's failure is recorded and
    never stops the others. Results (and errors) come back in the order of ``settings.regions``."""

    def guarded(region: str) -> tuple[str, T] | RegionError:
        try:
            return region, work(region)
        except Exception as error:  # noqa: BLE001 - isolation is the point: report, go on
            failed = RegionError.from_error(region, error)
            ctx.log.error("region_failed", **failed.as_row())
            return failed

    outcomes = bounded_map(guarded, ctx.settings.regions, ctx.throughput.region_concurrency)
    return ([o for o in outcomes if not isinstance(o, RegionError)],
            [o for o in outcomes if isinstance(o, RegionError)])


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


def region_wide_map(work: Callable[[T], U], items: Iterable[T], region_of: Callable[[T], str],
                    width: Throughput) -> list[U]:
    """``[work(item) for item in items]``: every region at once (``REGION_CONCURRENCY``), and inside each
    region ``RENEW_CONCURRENCY`` items at once; results in input order.

    Per region, not one pool over the list: the items come sorted by region, and a flat pool of
    ``RENEW_CONCURRENCY`` would work one region's lanes after another's while the others' sit idle.
    """
    indexed = list(enumerate(items))
    grouped = by_region(indexed, lambda pair: region_of(pair[1]))

    def one_region(region: str) -> list[tuple[int, U]]:
        return bounded_map(lambda pair: (pair[0], work(pair[1])), grouped[region], width.renew_concurrency)

    done = [pair for region in bounded_map(one_region, list(grouped), width.region_concurrency) for pair in region]
    return [value for _, value in sorted(done, key=lambda pair: pair[0])]


def in_background(work: Callable[[], T]) -> Callable[[], T]:
    """Start ``work`` in a thread now; the function returned waits for it and returns its value (or raises
    what it raised). Call it on every path: a job's calls must all be answered before it counts them."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as error:  # noqa: BLE001 - handed to the caller, raised there
            outcome.append((False, error))

    thread = threading.Thread(target=run, name="ecs-renewal-background", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        ok, value = outcome[0]
        if not ok:
            raise value
        return value

    return result


def api_calls(ctx: JobContext) -> dict[str, int]:
    """The run's calls by action; logs how the run met the rate limit (time waiting, throttling answers)."""
    calls, by_action = ctx.gateway.usage()
    if by_action is not None:
        ctx.log.info("api_usage", calls=calls, by_action=by_action)
    return calls


def by_region(items: Iterable[T], region_of: Callable[[T], str]) -> dict[str, list[T]]:
    """Items grouped by region, regions in order of first appearance."""
    grouped: dict[str, list[T]] = {}
    for item in items:
        grouped.setdefault(region_of(item), []).append(item)
    return grouped

