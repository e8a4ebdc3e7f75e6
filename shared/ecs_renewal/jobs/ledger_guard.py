"""renew-batch's use of the renewal ledger (``idempotency/renewal_ledger.py``) in the instances' tags.

- :meth:`LedgerGuard.check` — before anything is planned: what the ledger says about each candidate
  (read from the tags DescribeInstances returned: no call). ``renewed``/``pending``/``moved_otherwise``
  make a skip with the ledger's sentence; ``force: true`` renews anyway (logged, alerted).
- :meth:`LedgerGuard.intend_early` / :meth:`withdraw` — while the prices are asked (the TagResources
  lane is idle then), each instance's intent, before the run has decided (a failed write: that instance
  is not renewed); removed again (one UntagResources per 50) when a limit stops the plan. Only on
  instances that carry no intent tag at all, so that removing it restores exactly what was there (see
  ``renewal_ledger.py``, "Early intents").
- :meth:`LedgerGuard.before` / :meth:`after` / :meth:`refused` — around each RenewInstance: the intent
  first unless it was written early (no room for it, or a failed write: the instance is NOT renewed
  without a record), the outcome after (a failed write is logged and alerted; the next run still sees
  the intent and falls back to the expiry having moved past it), the refusal's code when ECS said no.
- :meth:`LedgerGuard.reconcile` — the open entries (instances still carrying an intent) that this run
  did not touch: each expiry must have moved by exactly the terms, once. Confirmed entries drop their
  intent (one UntagResources per 50); an entry that did not move after ``SETTLE`` or moved twice is an
  alert with the order id.

Everything the ledger saw is in :meth:`LedgerGuard.summary` (the result's ``ledger`` and the
``job_finished`` record).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .. import timeutil
from ..errors import ApiError
from ..gateway.models import Instance
from ..idempotency.persistence.tags import TagStore
from ..idempotency.renewal_ledger import (
    INTENT_TAG,
    LEDGER_TAGS,
    OUTCOME_TAG,
    Intent,
    LedgerStatus,
    LedgerView,
    Outcome,
    compact_terms,
    intent_for,
    outcome_for,
    read_ledger,
)
from ..logs import JsonLogger
from ..tag_rules import RenewalTerms

if TYPE_CHECKING:
    from ..results.ledger import LedgerSummary

NO_ROOM = "Ledger.NoRoom"


class LedgerUnavailable(Exception):
    """The intent could not be recorded: the instance is not renewed without a record. The code is the
    API's (a failed TagResources) or ``Ledger.NoRoom`` (20 tags already)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


Early = Intent | LedgerUnavailable  # what intend_early wrote for an instance, or why it could not


def terms_text(terms: RenewalTerms) -> str:
    return compact_terms(terms.period, terms.unit, terms.expected_renew_day)


class LedgerGuard:
    """One run's use of the renewal ledger: what it counted, alerted, forced and left behind."""

    def __init__(self, store: TagStore, log: JsonLogger, run_id: str | None, *, force: bool = False,
                 now: datetime | None = None) -> None:  # by hand, not a dataclass: nothing to generate at a cold start
        self.store, self.log, self.run_id, self.force = store, log, run_id, force
        self.now = now or timeutil.utc_now()
        self.counts: dict[str, int] = {}
        self.alerts: list[dict[str, Any]] = []
        self.forced: list[str] = []
        self.leftover: list[dict[str, Any]] = []  # early intents a stopped plan left behind
        self._lock = threading.Lock()

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + amount

    def _alert(self, instance: Instance, view: LedgerView | None, status: str, detail: str) -> None:
        row = {"instance_id": instance.instance_id, "region": instance.region, "status": status, "detail": detail,
               "order_id": view.order_id if view else None}
        with self._lock:
            self.alerts.append(row)
        self.log.error("ledger_alert", **row)

    # --- before planning -----------------------------------------------------------------------------

    def check(self, instance: Instance) -> LedgerView:
        """What the ledger says about this candidate; a view that ``blocks_renewal`` is a skip (unless forced)."""
        view = read_ledger(instance.instance_id, self.store.read(instance), instance.expired_time, self.now)
        if view.foreign:
            self._count("foreign_records")
            self.log.warning("ledger_foreign_record", instance_id=instance.instance_id, region=instance.region,
                             why="ledger tags that belong to another instance (copied?) were ignored")
        if view.intent or view.outcome:
            self._count("read")
        if view.status is not LedgerStatus.NONE:
            self._count(view.status.value)
        if view.needs_alert:
            self._alert(instance, view, view.status.value, view.detail)
        if view.blocks_renewal and self.force:
            self.forced.append(instance.instance_id)
            self.log.warning("ledger_overridden", instance_id=instance.instance_id, region=instance.region,
                             ledger=view.detail, why="the event says force: true")
            self._alert(instance, view, "forced", f"renewed again because the event says force: true; the "
                        f"ledger said: {view.detail}")
        return view

    def blocks(self, view: LedgerView) -> bool:
        return view.blocks_renewal and not self.force

    # --- around each renewal -------------------------------------------------------------------------

    def intend_early(self, instance: Instance, terms: RenewalTerms) -> Intent | LedgerUnavailable | None:
        """The intent, written before the decision (while prices are asked), or why it could not be (a
        failed write: the instance is not renewed, as at renewal time). None: not written now — the instance
        already carries an intent tag (its record stays as it is until the renewal) or has no room for the
        ledger — and :meth:`before` writes (or refuses) it at renewal time as usual.

        Safe before the decision: an intent never charges anything and never blocks a renewal (``in_flight``
        and ``unconfirmed`` both say "renew with the same ClientToken").
        """
        if INTENT_TAG in instance.tags or not self.store.room(instance, LEDGER_TAGS):
            return None
        try:
            return self._write_intent(instance, terms)
        except LedgerUnavailable as unavailable:
            return unavailable

    def withdraw(self, region: str, instance_ids: list[str]) -> None:
        """Remove the early intents of a plan a limit stopped (one UntagResources per 50 instances).

        A failure is logged and kept in :meth:`summary` (``leftover_intents``): a leftover intent only makes
        a later run renew with the same ClientToken, or alert it as ``unconfirmed`` — never a second charge.
        """
        if not instance_ids:
            return
        try:
            self.store.remove(region, instance_ids, [INTENT_TAG])
        except Exception as error:  # noqa: BLE001 - harmless leftovers, said in the result and the log
            code = error.code if isinstance(error, ApiError) else type(error).__name__
            self._count("withdraw_failed", len(instance_ids))
            with self._lock:
                self.leftover.append({"region": region, "instances": sorted(instance_ids), "code": code})
            self.log.error("ledger_withdraw_failed", region=region, instances=len(instance_ids), code=code,
                           why="the plan was stopped; these early intents stay (a later run renews with the "
                               "same ClientToken or alerts them as unconfirmed: never a second charge)")
            return
        self._count("intents_withdrawn", len(instance_ids))

    def before(self, instance: Instance, terms: RenewalTerms,
               early: Intent | LedgerUnavailable | None = None) -> Intent:
        """The intent (``early``: what :meth:`intend_early` wrote, or why it could not); raises
        :class:`LedgerUnavailable` when it cannot be recorded (then do not renew)."""
        if isinstance(early, LedgerUnavailable):
            raise early
        if early is not None:
            return early
        if not self.store.room(instance, LEDGER_TAGS):
            self._count("no_room")
            raise LedgerUnavailable(NO_ROOM, (
                f"the instance has {len(instance.tags)} tags: no room for the renewal ledger's "
                f"{', '.join(LEDGER_TAGS)} (20 at most); not renewed without a record — remove a tag, or renew "
                "it by hand"))
        return self._write_intent(instance, terms)

    def _write_intent(self, instance: Instance, terms: RenewalTerms) -> Intent:
        intent = intent_for(instance.instance_id, instance.expired_time, terms_text(terms), run=self.run_id,
                            now=timeutil.utc_now())
        try:
            self.store.write(instance, {INTENT_TAG: intent.encode()})
        except Exception as error:  # without the intent a replay could renew twice: not renewed
            self._count("write_failed")
            code = error.code if isinstance(error, ApiError) else type(error).__name__
            detail = error.message if isinstance(error, ApiError) else str(error)[:200]
            raise LedgerUnavailable(code, f"the renewal ledger's intent could not be written ({detail}); not "
                                    "renewed without a record — the next run tries again") from error
        self._count("intents_written")
        return intent

    def after(self, instance: Instance, intent: Intent, order_id: str) -> None:
        """Record the outcome. A failed write is logged and alerted; the intent keeps the next run safe."""
        self._write_outcome(instance, outcome_for(intent, order_id, now=timeutil.utc_now()), order_id)

    def refused(self, instance: Instance, intent: Intent, code: str) -> None:
        """ECS refused the renewal: record the code (the next run renews again, and knows it was reported)."""
        outcome = Outcome(timeutil.utc_now().replace(microsecond=0), "", intent.old, None, intent.terms,
                          intent.token, failed=code)
        self._write_outcome(instance, outcome, None)

    def _write_outcome(self, instance: Instance, outcome: Outcome, order_id: str | None) -> None:
        try:
            self.store.write(instance, {OUTCOME_TAG: outcome.encode()})
        except Exception as error:  # noqa: BLE001 - the renewal stands; its record is the intent
            self._count("write_failed")
            code = error.code if isinstance(error, ApiError) else type(error).__name__
            if order_id is not None:
                self._alert(instance, None, "outcome_not_recorded", (
                    f"renewed (order {order_id}) but the ledger's outcome could not be written ({code}): the "
                    "intent stays, and the next run treats an expiry moved past it as renewed"))
            return
        self._count("outcomes_written")

    # --- after the run -------------------------------------------------------------------------------

    def reconcile(self, region: str, open_entries: list[Instance], handled: set[str], *, dry_run: bool) -> None:
        """Check the entries this run did not touch; drop the intents that are settled."""
        settled: list[str] = []
        for instance in open_entries:
            if instance.instance_id in handled:
                continue
            view = read_ledger(instance.instance_id, self.store.read(instance), instance.expired_time,
                               timeutil.utc_now())
            self._count("reconciled")
            if view.status is LedgerStatus.RENEWED and view.outcome is not None:
                self._count("confirmed")
                settled.append(instance.instance_id)
            elif view.needs_alert:
                self._count(f"reconcile_{view.status.value}")
                self._alert(instance, view, view.status.value, view.detail)
                if view.status is LedgerStatus.MOVED_OTHERWISE:
                    settled.append(instance.instance_id)  # said once; the outcome tag keeps the record
            elif view.status is LedgerStatus.NONE and view.intent is not None and view.outcome is None:
                settled.append(instance.instance_id)  # an intent older than HOLD: nothing left to check
        if settled and not dry_run:
            try:
                self.store.remove(region, settled, [INTENT_TAG])
                self._count("intents_settled", len(settled))
            except Exception as error:  # noqa: BLE001 - they are checked again next run
                self.log.warning("ledger_settle_failed", region=region, instances=len(settled),
                                 error=type(error).__name__)

    def summary(self) -> LedgerSummary:
        from ..results.ledger import LedgerAlert, LedgerSummary, LeftoverIntents  # when the run ends

        alerts = sorted(self.alerts, key=lambda a: (a["region"], a["instance_id"], a["status"]))
        leftover = sorted(self.leftover, key=lambda row: row["region"])
        return LedgerSummary(dict(sorted(self.counts.items())), tuple(LedgerAlert(**a) for a in alerts),
                             tuple(sorted(self.forced)), tuple(LeftoverIntents(row["region"], tuple(row["instances"]),
                                                                               row["code"]) for row in leftover))
