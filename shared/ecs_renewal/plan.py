"""The renewal plan: renew-batch's decision as a value, from a pure function of (instances and terms, settings, prices).

The two limits come before any money moves: the count cap (``max_instances``) is checked first — a
capped run asks no price at all — then the budget (``max_cost``): over it, or with a price nobody can
know, nothing is renewed. A :class:`RenewalPlan` built here can be shown, approved and applied
later: everything the action needs (terms, ClientToken, price) is in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .gateway.models import Instance
from .idempotency import renewal_client_token
from .records import CostEstimate, Price, price_fields
from .tag_rules import RenewalTerms

if TYPE_CHECKING:
    from .funds import FundsForecast
    from .settings import Settings


class CapExceeded(NamedTuple):
    """More selected instances than ``max_instances``: the run renews nothing."""

    candidates: int
    max_instances: int

    def as_dict(self) -> dict[str, Any]:
        return {"candidates": self.candidates, "max_instances": self.max_instances}


class BudgetExceeded(NamedTuple):
    """The estimate is over ``max_cost``, or a price is unknown: the run renews nothing."""

    cost: CostEstimate
    max_cost: float

    def as_dict(self) -> dict[str, Any]:
        return {**self.cost.as_dict(), "max_cost": self.max_cost, "unknown_instances": sorted(self.cost.unknown)[:20]}


# NamedTuples like the two limits: values compared by value (a plan is a value), a tenth of a frozen
# dataclass's cost to define at a cold start (bench/probes.py imports).
class PlannedRenewal(NamedTuple):
    """One renewal decided: the instance, its terms, the ClientToken that makes it happen once, its price."""

    instance: Instance
    terms: RenewalTerms
    client_token: str
    price: Price | None = None

    def as_row(self, order_id: str | None = None) -> dict[str, Any]:
        return {"instance_id": self.instance.instance_id, "region": self.instance.region,
                "expired_time": self.instance.expired_time_text, "order_id": order_id,
                "client_token": self.client_token, "terms": self.terms.describe(), **price_fields(self.price)}

    def candidate_row(self) -> dict[str, Any]:
        """What the operator needs to decide when a limit stopped the run."""
        return {"instance_id": self.instance.instance_id, "region": self.instance.region,
                "expired_time": self.instance.expired_time_text, "terms": self.terms.describe(),
                **price_fields(self.price)}


class RenewalPlan(NamedTuple):
    """What renew-batch will do, decided before anything is paid: a value, so it can be shown and applied later."""

    items: tuple[PlannedRenewal, ...]
    cost: CostEstimate | None = None  # None: the cap stopped the run before any price was asked
    cap: CapExceeded | None = None
    budget: BudgetExceeded | None = None
    # The funds forecast (funds.py), when the balance was read; short: the third limit, nothing is renewed.
    funds: FundsForecast | None = None

    @property
    def funds_short(self) -> FundsForecast | None:
        return self.funds if self.funds is not None and self.funds.is_short else None

    @property
    def stopped(self) -> bool:
        return self.cap is not None or self.budget is not None or self.funds_short is not None


class Renewal(NamedTuple):
    """A renewal done (``order_id``) or, in a dry run, listed (``order_id`` None)."""

    planned: PlannedRenewal
    order_id: str | None

    def as_row(self) -> dict[str, Any]:
        return self.planned.as_row(self.order_id)


def count_cap(selected: int, max_instances: int) -> CapExceeded | None:
    """More selected instances than the cap renews nothing at all (a wrong window must not renew a fleet)."""
    return CapExceeded(selected, max_instances) if selected > max_instances else None


def budget_cap(cost: CostEstimate, max_cost: float | None) -> BudgetExceeded | None:
    """The second safety cap: over budget, or a price we cannot know, renews nothing."""
    if max_cost is not None and (cost.unknown or round(cost.total, 2) > max_cost):  # cents, as charged
        return BudgetExceeded(cost, max_cost)
    return None


def planned(instance: Instance, terms: RenewalTerms, price: Price | None = None) -> PlannedRenewal:
    token = renewal_client_token(instance.instance_id, instance.expired_time, terms.period, terms.unit,
                                 terms.expected_renew_day)
    return PlannedRenewal(instance, terms, token, price)


def plan_renewals(
    selected: Sequence[tuple[Instance, RenewalTerms]], settings: Settings, prices: Mapping[str, Price | None]
) -> RenewalPlan:
    """The plan for these instances. ``prices`` may be empty when the cap is hit (nothing was priced)."""
    cap = count_cap(len(selected), settings.max_instances)
    if cap is not None:
        return RenewalPlan(tuple(planned(instance, terms) for instance, terms in selected), cap=cap)
    items = tuple(planned(instance, terms, prices.get(instance.instance_id)) for instance, terms in selected)
    cost = CostEstimate.of([(item.instance.instance_id, item.price) for item in items])
    return RenewalPlan(items, cost=cost, budget=budget_cap(cost, settings.max_cost))
