"""What every job shares: its inputs, the result's common keys, and per-region error isolation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ApiError
from ..gateway.client import CallStats
from ..gateway.ecs import EcsGateway
from ..logs import JsonLogger
from ..settings import Settings

T = TypeVar("T")


@dataclass
class JobContext:
    settings: Settings
    gateway: EcsGateway
    log: JsonLogger
    stats: CallStats


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
    """Run ``work`` for each region; one region's failure is recorded and never stops the others."""
    done: list[tuple[str, T]] = []
    for region in ctx.settings.regions:
        try:
            done.append((region, work(region)))
        except Exception as error:  # noqa: BLE001 - isolation is the point: report, go on
            errors.append(region_error(region, error))
            ctx.log.error("region_failed", **errors[-1])
    return done


def finish(ctx: JobContext, result: dict[str, Any]) -> dict[str, Any]:
    result["api_calls"] = ctx.stats.as_dict()
    return result
