"""Typed job results → DingTalk messages (pure functions); the results come from tests/builders.py."""

from __future__ import annotations

import re

import pytest

from ecs_renewal.notify.messages import (
    KEYWORD,
    MAX_MESSAGE_BYTES,
    Message,
    messages_for_result,
    split_into_messages,
)
from ecs_renewal.plan import CapExceeded
from ecs_renewal.records import SkipCode
from ecs_renewal.tag_rules import RenewalTerms
from tests.builders import (
    audit_result,
    drift,
    expiring,
    failure,
    fixed,
    other_job,
    region_error,
    renew_result,
    renewed,
    scan_result,
    skipped,
)


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def body_lines(message: Message) -> list[str]:
    """The item lines of a message built by split_into_messages (everything after the header)."""
    return message.text.split("\n\n", 1)[1].split("\n") if "\n\n" in message.text else []


FAILED = (failure("i-bad", "InvalidAccountStatus.NotEnoughBalance", "no money"),)
REGION_ERROR = (region_error("cn-beijing", "Forbidden.RAM", "User not authorized"),)


# ---------------------------------------------------------------- splitting


def test_short_list_is_one_message_without_part_labels():
    [message] = split_into_messages("ECS renewal · t", "### ECS renewal", ["- a", "- b"])

    assert message.title == "ECS renewal · t"
    assert message.text == "### ECS renewal\n\n- a\n- b"
    assert "part" not in message.text


def test_long_list_is_split_under_the_limit_keeping_every_line_once_in_order():
    lines = [f"- i-{n:05d} · cn-hangzhou · 续费 {'x' * (n % 50)}" for n in range(600)]

    messages = split_into_messages("ECS renewal · t", "### ECS renewal · job\n\n**headline**", lines, max_bytes=2000)

    total = len(messages)
    assert total > 1
    for index, message in enumerate(messages, start=1):
        assert size(message.text) <= 2000
        assert message.title == f"ECS renewal · t (part {index}/{total})"
        assert message.text.startswith(f"### ECS renewal · job (part {index}/{total})\n\n**headline**")
    received = [line for message in messages for line in message.text.split("\n\n", 2)[2].split("\n")]
    assert received == lines


def test_over_long_line_is_truncated_not_dropped():
    lines = ["- first", "- " + "长" * 5000, "- last"]

    messages = split_into_messages("ECS renewal", "### ECS renewal", lines, max_bytes=1000)

    texts = [body_lines(m) for m in messages]
    flat = [line for chunk in texts for line in chunk]
    assert flat[0] == "- first" and flat[-1] == "- last"
    assert flat[1].startswith("- 长长") and flat[1].endswith("…")
    assert all(size(m.text) <= 1000 for m in messages)


def test_no_lines_gives_the_header_alone():
    assert split_into_messages("ECS renewal", "### ECS renewal", []) == [Message("ECS renewal", "### ECS renewal")]


# ---------------------------------------------------------------- every message


ALL_RESULTS = [
    scan_result(expiring("i-a", "cn-hangzhou", "2024-05-02T00:00Z"), errors=REGION_ERROR),
    renew_result(renewed("i-a", "order-1"), failed=FAILED, errors=REGION_ERROR),
    renew_result(renewed("i-a"), dry_run=True),
    renew_result(cap=CapExceeded(80, 50)),
    audit_result(drift=(drift("i-a", False, 0),), failed=FAILED),
    other_job("something-else", regions=("cn-hangzhou", "cn-shanghai"), errors=REGION_ERROR),
]


@pytest.mark.parametrize("result", ALL_RESULTS, ids=lambda r: r.job)
def test_every_message_carries_the_keyword_job_and_regions(result):
    messages = messages_for_result(result)

    assert messages
    for message in messages:
        assert message.title.startswith(KEYWORD)
        assert KEYWORD in message.text
        assert result.job in message.title and result.job in message.text
        assert "cn-hangzhou, cn-shanghai" in message.text
        assert size(message.text) <= MAX_MESSAGE_BYTES


def test_account_is_mentioned_when_the_result_has_one():
    result = scan_result(expiring("i-a", "cn-hangzhou", "2024-05-02T00:00Z"), account_id="1234567890")

    assert "1234567890" in messages_for_result(result)[0].text


# ---------------------------------------------------------------- scan-expiring


def test_empty_scan_sends_nothing():
    assert messages_for_result(scan_result()) == []


def test_scan_digest_is_sorted_by_expiry_then_region_then_id():
    result = scan_result(
        expiring("i-c", "cn-shanghai", "2024-05-03T00:00Z"),
        expiring("i-b", "cn-shanghai", "2024-05-02T00:00Z"),
        expiring("i-z", "cn-hangzhou", "2024-05-02T00:00Z"),
        expiring("i-a", "cn-shanghai", "2024-05-02T00:00Z"),
    )

    [message] = messages_for_result(result)

    assert "4 instances expire between 2024-05-01T00:00Z and 2024-05-08T00:00Z" in message.text
    ids = [line.split(" · ")[1].split()[0] for line in message.text.splitlines() if line.startswith("- 2024")]
    assert ids == ["i-z", "i-a", "i-b", "i-c"]


def test_scan_says_auto_renew_in_operators_words():
    # Rows read back without a price (the contract makes it optional): the line ends with what it says.
    rows = [expiring(f"i-{status}", "cn-hangzhou", "2024-05-02T00:00Z", auto_renew=status, price_asked=False)
            for status in ("AutoRenewal", "Normal", "NotRenewal")]
    # no auto-renew, no price: its status
    rows.append(expiring("i-plain", "cn-hangzhou", "2024-05-02T00:00Z", price_asked=False))

    [message] = messages_for_result(scan_result(*rows))

    lines = {line.split(" · ")[1]: line for line in message.text.splitlines() if line.startswith("- 2024")}
    assert lines["i-AutoRenewal (name-i-AutoRenewal)"].endswith(" · cn-hangzhou · auto-renew on")
    assert lines["i-Normal (name-i-Normal)"].endswith(" · cn-hangzhou · auto-renew off")
    assert lines["i-NotRenewal (name-i-NotRenewal)"].endswith(" · cn-hangzhou · letting it expire")
    assert lines["i-plain (name-i-plain)"].endswith(" · cn-hangzhou · running")
    assert "AutoRenewal ·" not in message.text and "Normal" not in message.text.replace("i-Normal", "")


def test_scan_errors_are_a_separate_message_even_with_nothing_found():
    [message] = messages_for_result(scan_result(errors=REGION_ERROR))

    assert "FAILED" in message.title
    assert "cn-beijing" in message.text and "Forbidden.RAM" in message.text
    assert "incomplete" in message.text


# ---------------------------------------------------------------- renew-batch


def test_renew_dry_run_says_would_renew_and_summarises_skipped():
    skips = [skipped(f"i-s{n}", "auto-renew on") for n in range(3)]
    skips.append(skipped("i-p", "not prepaid", SkipCode.PAY_AS_YOU_GO))

    [message] = messages_for_result(renew_result(renewed("i-a"), dry_run=True, skipped=tuple(skips)))

    assert "DRY RUN" in message.title and "would renew" in message.title
    assert "would renew 1 instance" in message.text
    assert "- i-a · cn-hangzhou" in message.text
    assert "Skipped: 4 (auto-renew on: 3, not prepaid: 1)" in message.text
    assert "i-s0" not in message.text  # skipped instances are counted, not listed
    assert "order" not in message.text


def test_renew_says_periods_terms_and_skip_reasons_in_operators_words():
    skips = (skipped("i-n", "owner set NotRenewal: the instance is being let go on purpose", SkipCode.OWNER_LETS_GO),)
    item = renewed("i-a", "o-1", terms=RenewalTerms(3, "Month"))

    [message] = messages_for_result(renew_result(item, skipped=skips, period=1, period_unit="Month"))

    assert "Renewed 1 instance for 1 month" in message.text
    assert "- i-a · cn-hangzhou · expiry 2024-06-03T16:00Z · 3 months · order o-1" in message.text
    assert "Skipped: 1 (the owner is letting it expire on purpose: 1)" in message.text
    assert "NotRenewal" not in message.text and "Month" not in message.text


def test_renew_real_run_lists_orders():
    [message] = messages_for_result(renew_result(renewed("i-a", "20240501001")))

    assert "DRY RUN" not in message.title
    assert "Renewed 1 instance" in message.text
    assert "order 20240501001" in message.text


def test_renew_failures_are_never_buried_in_the_success_list():
    many = [renewed(f"i-{n:04d}", f"o-{n}") for n in range(300)]

    messages = messages_for_result(renew_result(*many, failed=FAILED, errors=REGION_ERROR))

    failure_messages = [m for m in messages if "FAILED" in m.title]
    assert len(failure_messages) == 1
    assert "i-bad" in failure_messages[0].text and "NotEnoughBalance" in failure_messages[0].text
    assert "cn-beijing" in failure_messages[0].text
    assert all("i-bad" not in m.text for m in messages if m not in failure_messages)


def test_cap_exceeded_says_nothing_was_renewed_and_how_to_proceed():
    result = renew_result(cap=CapExceeded(80, 50))

    [message] = messages_for_result(result)

    assert "NOTHING renewed" in message.title
    assert "Nothing was renewed" in message.text
    assert "80" in message.text and "50" in message.text
    for way_forward in ("by hand", "max_instances", "MAX_RENEWALS", "instance_ids"):
        assert way_forward in message.text


def test_cap_exceeded_with_failures_still_reports_them():
    messages = messages_for_result(renew_result(cap=CapExceeded(80, 50), errors=REGION_ERROR))

    assert [("NOTHING" in m.title, "FAILED" in m.title) for m in messages] == [(True, False), (False, True)]


def test_renew_with_nothing_to_do_sends_nothing():
    assert messages_for_result(renew_result()) == []


def test_a_huge_renewal_list_is_split_into_parts():
    many = [renewed(f"i-{n:06d}", f"order-{n}") for n in range(1000)]

    messages = messages_for_result(renew_result(*many))

    assert len(messages) > 1
    assert all("(part " in m.title and size(m.text) <= MAX_MESSAGE_BYTES for m in messages)
    assert sum(m.text.count("· order order-") for m in messages) == 1000


# ---------------------------------------------------------------- audit-autorenew


def test_audit_reports_drift_and_what_was_fixed():
    found = (drift("i-a", False, 0), drift("i-b", True, 3))

    [message] = messages_for_result(audit_result(drift=found, fixed=(fixed("i-a"),)))

    assert "2 drift, 1 fixed" in message.title
    assert "Expected: auto-renew on, 1 month" in message.text
    assert "- i-a · cn-hangzhou · auto-renew off → fixed" in message.text
    assert "- i-b · cn-hangzhou · auto-renew on, 3 months" in message.text


def test_audit_without_expected_and_in_dry_run():
    # expected_auto_renew None: a result read back that does not say (the merge of many accounts)
    result = audit_result(drift=(drift("i-a", False, 0),), dry_run=True, expected_auto_renew=None)

    [message] = messages_for_result(result)

    assert "Expected setting: not reported" in message.text
    assert "not changed (dry run)" in message.text


def test_audit_failures_are_a_separate_message():
    found = (drift("i-bad", False, 0),)

    drift_message, failure_message = messages_for_result(audit_result(drift=found, failed=FAILED))

    assert "fix FAILED" in drift_message.text
    assert "FAILED" in failure_message.title and "NotEnoughBalance" in failure_message.text


def test_clean_audit_sends_nothing():
    assert messages_for_result(audit_result()) == []


# ---------------------------------------------------------------- other jobs


def test_unknown_job_lists_errors_only():
    [message] = messages_for_result(other_job("mystery", regions=("cn-hangzhou", "cn-shanghai"), errors=REGION_ERROR))

    assert message.title.startswith("ECS renewal · mystery")
    assert "Forbidden.RAM" in message.text


def test_unknown_job_without_errors_sends_nothing():
    assert messages_for_result(other_job("mystery", errors=())) == []
    assert messages_for_result(other_job("")) == []


# ---------------------------------------------------------------- DingTalk's body limit (issue 12)


@pytest.mark.parametrize("tiered", [False, True])
def test_many_owners_every_body_under_20000_bytes_and_each_part_mentions_only_its_owners(tiered):
    # The shape that made a 20,614-byte body when every part repeated every owner's mention.
    items = [expiring(f"i-{n:020d}", "cn-hangzhou", "2024-05-02T00:00Z", owner=f"138{n % 150:08d}",
                      owner_kind="mobile", tier=3 if tiered else None) for n in range(400)]
    messages = messages_for_result(scan_result(*items))
    assert len(messages) > 1
    for message in messages:
        assert len(message.body().encode("utf-8")) < 20_000
        named = {who for line in body_lines(message) for who in re.findall(r"@(\d+)", line)}
        assert set(message.at_mobiles) == named  # exactly the owners this part names
    assert set().union(*(m.at_mobiles for m in messages)) == {f"138{n:08d}" for n in range(150)}


def test_escapes_count_in_the_body_not_only_the_text():
    # Quotes and backslashes double inside JSON: a text under its byte cap can still make a body over 20,000.
    lines = [f'- "{n}" \\ "quoted" \\ ' + '"' * 40 for n in range(600)]
    messages = split_into_messages("ECS renewal", "### ECS renewal", lines)
    assert all(len(m.body().encode("utf-8")) < 20_000 for m in messages)
    assert [line for m in messages for line in body_lines(m)] == lines
