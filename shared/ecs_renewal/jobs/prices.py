"""A job's renewal prices: through the gateway's price book, one call per price key, those calls at once."""

from __future__ import annotations

from collections.abc import Sequence

from ..gateway.models import Instance
from ..pricing import PriceBook
from ..records import Price
from ..tag_rules import RenewalTerms
from .base import JobContext, bounded_map


def prices_of(ctx: JobContext, items: Sequence[tuple[Instance, RenewalTerms]]) -> dict[str, Price | None]:
    """Each item's renewal price by instance id, asked once per price key, those calls at once.

    Only one instance per key goes to a thread: the others would only wait for that answer, and a thread
    per instance costs more than the whole rest of a row.
    """
    book = PriceBook(ctx.gateway)
    return book.prices(items, lambda ask, first: bounded_map(ask, first, ctx.throughput.renew_concurrency))
