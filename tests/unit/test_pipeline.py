"""The pipeline's parts on their own: shared filters, the pure plan and its limits, one pagination engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from ecs_renewal.gateway import paging
from ecs_renewal.gateway.models import Instance
from ecs_renewal.gateway.paging import ListSpec, chunks, pages
from ecs_renewal.plan import plan_renewals
from ecs_renewal.policy import ChargeType, Locks, OwnerChoice, Tags, apply
from ecs_renewal.records import Price, SkipCode
from ecs_renewal.settings import TagMatcher, build_settings
from ecs_renewal.tag_rules import RenewalTerms

EXPIRY = datetime(2030, 1, 2, 16, 0, tzinfo=timezone.utc)
NOW = EXPIRY - timedelta(days=2)


def instance(n: int, **fields) -> Instance:
    base = Instance(f"i-bp1{n:09d}", f"web-{n}", "cn-hangzhou", "PrePaid", EXPIRY, "Running", "ecs.g7.large")
    return replace(base, **fields)


def settings(**event):
    return build_settings("renew-batch", event, {"REGIONS": "cn-hangzhou"}, now=NOW)


def test_filters_say_why_with_a_code_and_the_first_reason_wins():
    kept, skipped = apply(
        [ChargeType(), Locks(), Tags(None, TagMatcher("renewal", "manual"))],
        [instance(1), instance(2, charge_type="PostPaid"), instance(3, locks=("security",)),
         instance(4, tags={"renewal": "manual"}), instance(5, charge_type="PostPaid", locks=("security",))])
    assert [i.instance_id for i in kept] == ["i-bp1000000001"]
    assert [(s.instance.instance_id[-1], s.code) for s in skipped] == [
        ("2", SkipCode.PAY_AS_YOU_GO), ("3", SkipCode.LOCKED), ("4", SkipCode.EXCLUDED_BY_TAG),
        ("5", SkipCode.PAY_AS_YOU_GO)]
    assert skipped[2].as_row()["reason"] == "excluded by tag renewal=manual"


def test_owner_choice_is_one_filter_for_renew_and_audit():
    statuses = {"i-bp1000000001": "NotRenewal", "i-bp1000000002": "AutoRenewal"}
    both = [instance(1), instance(2), instance(3)]
    _, renew_skips = apply([OwnerChoice(statuses, renew_auto_renewing=False)], both)  # renew-batch
    _, audit_skips = apply([OwnerChoice(statuses)], both)  # audit-autorenew: auto-renewing ones may drift
    assert [s.code for s in renew_skips] == [SkipCode.OWNER_LETS_GO, SkipCode.AUTO_RENEWING]
    assert [s.code for s in audit_skips] == [SkipCode.OWNER_LETS_GO]


def test_the_plan_is_a_pure_function_of_instances_settings_and_prices():
    selected = [(instance(n), RenewalTerms(1, "Month")) for n in range(3)]
    prices = {f"i-bp1{n:09d}": Price(361.0, "CNY") for n in range(3)}
    first, again = plan_renewals(selected, settings(), prices), plan_renewals(selected, settings(), prices)
    assert first == again and not first.stopped
    assert [item.client_token for item in first.items] == [item.client_token for item in again.items]
    assert first.cost is not None and first.cost.as_dict() == {"amount": 1083.0, "currency": "CNY", "priced": 3,
                                                               "unknown": 0}



def test_the_plan_is_a_value_two_plans_of_equal_instances_are_equal():
    prices = {f"i-bp1{n:09d}": Price(361.0, "CNY") for n in range(3)}

    def plan():  # new Instance objects each time, equal field by field
        return plan_renewals([(instance(n), RenewalTerms(1, "Month")) for n in range(3)], settings(), prices)

    assert plan() == plan()


def test_the_cap_is_checked_before_any_price_and_the_budget_after():
    selected = [(instance(n), RenewalTerms(1, "Month")) for n in range(3)]
    capped = plan_renewals(selected, settings(max_instances=2), {})
    assert capped.cap is not None and capped.cap.as_dict() == {"candidates": 3, "max_instances": 2}
    assert capped.cost is None and capped.budget is None and len(capped.items) == 3
    over = plan_renewals(selected, settings(max_cost=1000), {f"i-bp1{n:09d}": Price(361.0, "CNY") for n in range(3)})
    assert over.budget is not None and over.budget.as_dict()["amount"] == 1083.0
    unknown = plan_renewals(selected, settings(max_cost=10_000), {})  # a price nobody knows blocks the run
    assert unknown.budget is not None and unknown.budget.as_dict()["unknown"] == 3


def test_one_pagination_engine_for_next_token_and_page_number(monkeypatch):
    answers = {"": {"Rows": {"Row": [1, 2]}, "NextToken": "t2"}, "t2": {"Rows": {"Row": [3]}, "NextToken": ""}}
    sent: list[dict] = []

    class Request:
        def __init__(self) -> None:
            self.params: dict = {}
            sent.append(self.params)

        def add_query_param(self, name, value) -> None:
            self.params[name] = value

    def call(request):
        return answers[request.params.get("NextToken", "")]

    monkeypatch.setattr(paging, "request_class", lambda action: Request)  # no SDK: the engine alone
    by_token = ListSpec("X", ("Rows", "Row"), "next_token", "MaxResults", 100, "Ids", "json_array")
    assert list(pages(call, by_token, {"A": 1}, ["i-1", "i-2"])) == [1, 2, 3]
    assert sent[0] == {"MaxResults": 100, "A": 1, "Ids": '["i-1", "i-2"]'} and sent[1]["NextToken"] == "t2"

    sent.clear()
    numbered = ListSpec("Y", ("Rows", "Row"), "page_number", "PageSize", "2", "Id", "comma_list")
    bodies = iter([{"Rows": {"Row": [1, 2]}, "TotalCount": 3}, {"Rows": {"Row": [3]}, "TotalCount": 3}])
    assert list(pages(lambda request: next(bodies), numbered, {}, ["a", "b"])) == [1, 2, 3]
    assert [p["PageNumber"] for p in sent] == ["1", "2"] and sent[0]["Id"] == "a,b"
    assert [len(c) for c in chunks([str(n) for n in range(250)])] == [100, 100, 50]
