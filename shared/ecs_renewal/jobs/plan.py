"""renew-batch's decision, as a value: a pure function of (instances with their terms, settings, prices).

The two limits come before any money moves: the count cap (``max_instances``) is checked first — a
capped run asks no price at all — then the budget (``max_cost``): over it, or with a price nobody can
know, nothing is renewed. A :class:`~.records.RenewalPlan` built here can be shown, approved and applied
later: everything the action needs (terms, ClientToken, price) is in it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..gateway.models import Instance
from ..idempotency import renewal_client_token
from ..records import BudgetExceeded, CapExceeded, CostEstimate, PlannedRenewal, Price, RenewalPlan
from ..settings import Settings
from ..tag_rules import RenewalTerms


def count_cap(selected: int, max_instances: int) -> CapExceeded | None:
    """More selected instances than the cap renews nothing at all (a wrong window must not renew a fleet)."""
    return CapExceeded(selected, max_instances) if selected > max_instances else None


def budget_cap(cost: CostEstimate, max_cost: float | None) -> BudgetExceeded | None:
    """The second safety cap: over budget, or a price we cannot know, renews nothing."""
    if max_cost is not None and (cost.unknown or cost.total > max_cost):
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
