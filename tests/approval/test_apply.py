"""Applying a plan, against a fake gateway: every refusal, the ledger, nothing outside the plan."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ecs_renewal.approval.apply import PlanApplier
from ecs_renewal.approval.document import PlanEntry, make_plan
from ecs_renewal.approval.store import FolderStore
from ecs_renewal.gateway.models import Instance, RenewalPrice
from ecs_renewal.idempotency import renewal_client_token

EXPIRY = datetime(2026, 1, 20, 16, 0, tzinfo=UTC)


def instance(instance_id: str, **changes) -> Instance:
    return replace(Instance(instance_id, instance_id, "cn-hangzhou", "PrePaid", EXPIRY, "Running"), **changes)


def entry(instance_id: str, price: float | None = 100.0) -> PlanEntry:
    return PlanEntry("1", "cn-hangzhou", instance_id, instance_id, "", "2026-01-20T16:00Z", 1, "Month", None,
                     renewal_client_token(instance_id, EXPIRY, 1, "Month"), price, "CNY")


class FakeGateway:
    def __init__(self, instances: list[Instance]) -> None:
        self.found = {i.instance_id: i for i in instances}
        self.caller = object()
        self.asked: list[list[str]] = []
        self.renewed: list[tuple[str, str]] = []

    def instances(self, region, *, prepaid_only, instance_ids):
        assert prepaid_only is False  # a plan's instance that turned pay-as-you-go must be seen, and refused
        self.asked.append(list(instance_ids))
        return [self.found[i] for i in instance_ids if i in self.found]

    def renewal_price(self, region, instance_id, *, period, price_unit, expected_renew_day):
        assert (period, price_unit) == (1, "Month")  # the plan's terms, as DescribeRenewalPrice takes them
        return RenewalPrice(instance_id, QUOTES.get(instance_id, 100.0), "CNY")

    def renew_instance(self, region, instance_id, *, period, period_unit, expected_renew_day, client_token):
        self.renewed.append((instance_id, client_token))
        return f"order-{instance_id}"


QUOTES: dict[str, float] = {}


@pytest.fixture
def quotes() -> dict[str, float]:
    QUOTES.clear()
    return QUOTES


def test_every_refusal_has_its_reason_and_only_matching_entries_are_renewed(quotes, tmp_path) -> None:
    quotes["i-dear"] = 120.0
    quotes["i-cheaper"] = 80.0
    gateway = FakeGateway([
        instance("i-ok"), instance("i-cheaper"), instance("i-dear"), instance("i-postpaid", charge_type="PostPaid"),
        instance("i-locked", locks=("financial",)), instance("i-moved", expired_time=datetime(2026, 2, 20, 16, 0,
                                                                                             tzinfo=UTC)),
        instance("i-outside"),  # exists, expiring, but not in the plan
    ])
    entries = [entry(i) for i in ("i-ok", "i-cheaper", "i-dear", "i-postpaid", "i-locked", "i-moved", "i-gone")]
    entries.append(replace(entry("i-token"), client_token="ecsrenew-forged"))
    gateway.found["i-token"] = instance("i-token")
    entries.append(entry("i-unpriced", price=None))
    gateway.found["i-unpriced"] = instance("i-unpriced")
    outcome = PlanApplier(gateway, FolderStore(tmp_path), dry_run=False).apply(make_plan(entries, now=EXPIRY))
    assert sorted(row["instance_id"] for row in outcome.renewed) == ["i-cheaper", "i-ok"]
    codes = {row["instance_id"]: row["code"] for row in outcome.refused}
    assert codes == {"i-dear": "PriceRose", "i-postpaid": "NoLongerPrepaid", "i-locked": "Locked",
                     "i-moved": "ExpiryChanged", "i-gone": "InstanceNotFound", "i-token": "TokenMismatch",
                     "i-unpriced": "PriceUnknown"}
    assert all(row["reason"] for row in outcome.refused)
    assert "i-outside" not in {i for batch in gateway.asked for i in batch}  # never even read for renewal
    assert outcome.spent == {"CNY": 200.0}  # the planned prices: never more than approved


def test_applying_twice_renews_nothing_twice_and_names_the_first_orders(quotes, tmp_path) -> None:
    gateway = FakeGateway([instance("i-a"), instance("i-b")])
    plan = make_plan([entry("i-a"), entry("i-b")], now=EXPIRY)
    store = FolderStore(tmp_path)
    first = PlanApplier(gateway, store, dry_run=False).apply(plan)
    second = PlanApplier(gateway, store, dry_run=False).apply(plan)
    assert len(first.renewed) == 2 and second.renewed == [] and second.refused == []
    assert [row["order_id"] for row in second.already] == ["order-i-a", "order-i-b"]
    assert len(gateway.renewed) == 2


def test_a_dry_run_apply_orders_nothing(quotes, tmp_path) -> None:
    gateway = FakeGateway([instance("i-a")])
    outcome = PlanApplier(gateway, FolderStore(tmp_path), dry_run=True).apply(make_plan([entry("i-a")], now=EXPIRY))
    assert [row["order_id"] for row in outcome.renewed] == [None] and gateway.renewed == []
