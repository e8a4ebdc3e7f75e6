"""The renewal ledger: what ecs-renewal did to an instance, kept in the cloud next to it.

Two records per instance, each one short text (a tag value, see ``persistence/tags.py``; their encoding
is ``ledger_records.py``):

- **intent** (``ecs-renewal:intent``), written *before* RenewInstance: when, which run, the expiry the
  decision was based on, the terms and the ClientToken's fingerprint;
- **outcome** (``ecs-renewal:renewed``), written *after* it: when, the order id, the old expiry and the
  expiry it should now have.

Every run reads the ledger first (DescribeInstances already returns the tags: no extra call) and
:func:`read_ledger` says what it means for this instance *now*:

==================  ==========================================================================  ==========
status              meaning                                                                     renew?
==================  ==========================================================================  ==========
``none``            nothing recorded that bears on this expiry (or only records older than     yes
                    ``HOLD``, or copied from another instance)
``renewed``         done earlier: the expiry moved from the recorded old one (by the terms)    no (skip)
``pending``         renewed (an order) less than ``SETTLE`` ago; the new expiry is not visible no (skip)
``in_flight``       an intent without outcome, less than ``SETTLE`` ago (killed mid-renewal)   yes, same
                                                                                               token
``unconfirmed``     started/done more than ``SETTLE`` ago and the expiry never moved           intent only:
                                                                                               yes, same
                                                                                               token; with
                                                                                               an order: no
``moved_otherwise`` moved, but not by exactly the terms (twice, or also by hand)               no (alert)
``refused``         the last attempt on this expiry was refused (its failure was reported)     yes
==================  ==========================================================================  ==========

``unconfirmed`` and ``moved_otherwise`` are alerts with the order id. ``force: true`` in the event
renews in spite of ``renewed``/``pending`` (logged and alerted); the ClientToken still applies.

Why ``HOLD`` (24 h): Function Compute replays an async event at most ``maxAsyncEventAgeInSeconds``
after it (s.yaml: 4 h for renew-batch; FC's ceiling is a day); a record older than that is a previous
renewal cycle, and blocking on it could let an instance that is due again expire. Why ``SETTLE``
(10 min): the new expiry shows within ~10 s; a renewal that has not moved it after 10 minutes did not
happen (intent only) or needs a person (an order that did not apply).

The records are bound to their instance by the ClientToken's fingerprint (the token hashes the instance
id): tags copied onto another instance (a launch template, an image) are recognised and ignored.

Early intents (issue 12: renew's throughput). renew-batch writes each instance's intent while it asks the
prices — *before* it has decided (budget, funds forecast) — because the TagResources lane is idle then;
the renewals that follow need only RenewInstance and the outcome tag, on two lanes at once. That is safe
because of what an intent means in the table above: it never blocks a renewal (``in_flight`` and
``unconfirmed`` with no order both say "renew with the same ClientToken") and never charges anything.

- Written only when the run will really renew: not a dry run, not ``approval: required``, the cap not
  exceeded; and only on an instance that carries no intent tag at all (an earlier run's intent — its
  RenewInstance may have reached ECS — stays as it is until this run's renewal rewrites it).
- A limit that then stops the plan (the budget, the funds forecast) removes the intents it wrote with
  UntagResources (one call per 50 ids of a region): the instances are exactly as before the run. If that
  fails, ``ledger.leftover_intents`` in the result and a ``ledger_withdraw_failed`` log line say so.
- What a leftover intent (a failed withdrawal, or a run killed between its intents and its decision)
  can cause: the next run renews with the same ClientToken (the one it would use anyway) and, when it
  comes more than ``SETTLE`` later, says ``unconfirmed`` (an alert). Never a second charge: no
  RenewInstance was sent with that token before the decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from ..timeutil import format_minute
from .keys import renewal_client_token
from .ledger_records import (
    INTENT_TAG,
    LEDGER_TAGS,
    OUTCOME_TAG,
    SECOND_FORMAT,
    Intent,
    Outcome,
    compact_terms,
    expected_expiry,
    fingerprint,
    intent_for,
    outcome_for,
    terms_of,
)

__all__ = [
    "HOLD", "INTENT_TAG", "LEDGER_TAGS", "OUTCOME_TAG", "SETTLE", "Intent", "LedgerStatus", "LedgerView", "Outcome",
    "compact_terms", "expected_expiry", "intent_for", "outcome_for", "read_ledger", "records_of",
]

HOLD = timedelta(hours=24)
SETTLE = timedelta(minutes=10)


class LedgerStatus(StrEnum):
    NONE = "none"
    RENEWED = "renewed"
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # an intent without an outcome, moments ago: renew with the same ClientToken
    UNCONFIRMED = "unconfirmed"
    MOVED_OTHERWISE = "moved_otherwise"
    REFUSED = "refused"  # the last attempt on this expiry was refused (reported then): renew again


class LedgerView(NamedTuple):  # a value, as cheap to define as its records (ledger_records.py)
    """What the ledger says about one instance at one moment (see the module's table)."""

    status: LedgerStatus
    detail: str = ""
    intent: Intent | None = None
    outcome: Outcome | None = None
    foreign: bool = False  # a record that belongs to another instance was found (and ignored)

    @property
    def blocks_renewal(self) -> bool:
        if self.status is LedgerStatus.UNCONFIRMED:
            return self.outcome is not None  # ECS gave an order: never pay again without a person
        return self.status in (LedgerStatus.RENEWED, LedgerStatus.PENDING, LedgerStatus.MOVED_OTHERWISE)

    @property
    def needs_alert(self) -> bool:
        return self.status in (LedgerStatus.UNCONFIRMED, LedgerStatus.MOVED_OTHERWISE)

    @property
    def order_id(self) -> str | None:
        return (self.outcome.order_id or None) if self.outcome else None

    @property
    def refused_code(self) -> str | None:
        return self.outcome.failed if self.status is LedgerStatus.REFUSED and self.outcome else None

    def as_dict(self) -> dict[str, object]:
        row: dict[str, object] = {"status": self.status.value, "detail": self.detail}
        if self.outcome and self.outcome.order_id:
            row["order_id"] = self.outcome.order_id
        if self.outcome and self.outcome.failed:
            row["failed"] = self.outcome.failed
        record = self.outcome or self.intent
        if record:
            row["recorded_at"] = record.at.strftime(SECOND_FORMAT)
            row["old_expiry"] = format_minute(record.old)
        if self.outcome and self.outcome.new:
            row["expected_expiry"] = format_minute(self.outcome.new)
        return row


def _belongs(instance_id: str, record: Intent | Outcome) -> bool:
    parsed = terms_of(record.terms)
    return parsed is not None and fingerprint(renewal_client_token(instance_id, record.old, *parsed)) == record.token


def records_of(instance_id: str, tags: Mapping[str, str]) -> tuple[Intent | None, Outcome | None, bool]:
    """The instance's own intent and outcome; a record copied from another instance is dropped (``True``)."""
    intent = Intent.decode(tags[INTENT_TAG]) if tags.get(INTENT_TAG) else None
    outcome = Outcome.decode(tags[OUTCOME_TAG]) if tags.get(OUTCOME_TAG) else None
    foreign = False
    if intent and not _belongs(instance_id, intent):
        intent, foreign = None, True
    if outcome and not _belongs(instance_id, outcome):
        outcome, foreign = None, True
    return intent, outcome, foreign


def read_ledger(instance_id: str, tags: Mapping[str, str], current: datetime, now: datetime, *,
                hold: timedelta = HOLD, settle: timedelta = SETTLE) -> LedgerView:
    """What this instance's ledger means now, given the expiry DescribeInstances shows (``current``)."""
    intent, outcome, foreign = records_of(instance_id, tags)
    if intent and outcome and intent.old != outcome.old:
        # Two renewals' records: the later one speaks (an intent newer than the outcome has no outcome yet).
        if intent.at >= outcome.at:
            outcome = None
        else:
            intent = None
    latest = outcome or intent
    if latest is None or now - latest.at >= hold:
        return LedgerView(LedgerStatus.NONE, intent=intent, outcome=outcome, foreign=foreign)
    if outcome:
        return _with_outcome(outcome, intent, current, now, settle, foreign)
    assert intent is not None
    return _with_intent_only(intent, current, now, settle, foreign)


def _stamp(record: Intent | Outcome) -> str:
    return record.at.strftime(SECOND_FORMAT)


def _with_outcome(outcome: Outcome, intent: Intent | None, current: datetime, now: datetime,
                  settle: timedelta, foreign: bool) -> LedgerView:
    said = (f"renewed by ecs-renewal at {_stamp(outcome)}, order {outcome.order_id}, expiry "
            f"{format_minute(outcome.old)} → {format_minute(outcome.new) if outcome.new else 'the unified day'}")

    def view(status: LedgerStatus, detail: str) -> LedgerView:
        return LedgerView(status, detail, intent, outcome, foreign)

    if outcome.failed:
        if current != outcome.old:
            return LedgerView(LedgerStatus.NONE, intent=intent, outcome=outcome, foreign=foreign)
        return view(LedgerStatus.REFUSED, f"refused at {_stamp(outcome)}: {outcome.failed} (reported then)")

    if current == outcome.old:
        if now - outcome.at < settle:
            return view(LedgerStatus.PENDING, f"{said} (the new expiry is not visible yet)")
        minutes = int((now - outcome.at).total_seconds() // 60)
        return view(LedgerStatus.UNCONFIRMED, f"{said}, but the expiry is still {format_minute(current)} after "
                    f"{minutes} minutes: check order {outcome.order_id} (not renewed again)")
    if current < outcome.old:
        return view(LedgerStatus.MOVED_OTHERWISE, f"{said}, but the expiry is now {format_minute(current)}, earlier "
                    "than before the renewal: check the order (not renewed again)")
    if outcome.new is None or current == outcome.new:
        return view(LedgerStatus.RENEWED, said)
    twice = current == expected_expiry(outcome.new, outcome.terms)
    how = "moved twice" if twice else "moved by more than one renewal (renewed by hand too?)"
    return view(LedgerStatus.MOVED_OTHERWISE, f"{said}, but the expiry is now {format_minute(current)}: {how}; "
                f"check order {outcome.order_id} and the account's other orders (not renewed again)")


def _with_intent_only(intent: Intent, current: datetime, now: datetime, settle: timedelta,
                      foreign: bool) -> LedgerView:
    started = f"a renewal by ecs-renewal started at {_stamp(intent)} (run {intent.run or '-'})"
    if current > intent.old:
        expected = expected_expiry(intent.old, intent.terms)
        detail = (f"renewed by ecs-renewal at {_stamp(intent)} (run {intent.run or '-'}), expiry "
                  f"{format_minute(intent.old)} → {format_minute(current)} (the outcome record is missing: "
                  "the expiry moved past the intent's)")
        if expected is not None and current != expected:
            return LedgerView(LedgerStatus.MOVED_OTHERWISE, f"{detail}, expected {format_minute(expected)}: check the "
                              "account's orders (not renewed again)", intent, None, foreign)
        return LedgerView(LedgerStatus.RENEWED, detail, intent, None, foreign)
    if current < intent.old:
        return LedgerView(LedgerStatus.NONE, intent=intent, foreign=foreign)  # a record of an older expiry
    if now - intent.at < settle:
        # Killed between the intent and the outcome (before or after RenewInstance reached ECS): the
        # ClientToken covers this — the same token again is the same order, or the first one.
        return LedgerView(LedgerStatus.IN_FLIGHT, f"{started} for expiry {format_minute(intent.old)} has no "
                          "outcome yet: sent again with the same ClientToken", intent, None, foreign)
    minutes = int((now - intent.at).total_seconds() // 60)
    return LedgerView(LedgerStatus.UNCONFIRMED, f"{started} did not move the expiry {format_minute(intent.old)} "
                      f"after {minutes} minutes: renewing again with the same ClientToken", intent, None, foreign)
